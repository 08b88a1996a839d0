"""The LitServe API: setup loads the checkpoint, decoding brings any request to MNIST's form, predict
reads a whole batch in one pass, and the answer carries the row-by-row reading."""

import hmac
import os

import litserve as ls
import orjson
import torch
from fastapi import Header, HTTPException
from starlette.responses import Response
from torch import Tensor
from typing_extensions import override

from rnn_lightning.errors import UserInputError
from rnn_lightning.reader import DigitReader
from rnn_lightning.serving.inputs import request_to_image

NO_READING = (
    "a bidirectional model reads every row from both ends before it answers: it has no answer after the "
    "first rows to show"
)


class BadInput:
    """A request that could not be decoded; it skips the model and is answered 400 on its own (an error
    raised in `decode_request` would fail every request of its batch)."""

    def __init__(self, message: str) -> None:
        self.message = message


def json_response(content: dict, status_code: int = 200) -> Response:
    """JSON bytes made here, in the worker, by orjson straight from numpy arrays: 7 µs for an answer
    against 139 µs for `json.dumps` of the same lists (benchmarks/serve.py prints the pieces' costs)."""
    return Response(orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY), status_code,
                    media_type="application/json")  # fmt: skip


class DigitReaderAPI(ls.LitAPI):
    """`POST /predict`: the digit, its probability, all ten, the 28x28 input the model saw, and `steps`:
    the ten probabilities after each row read (None, with `steps_note`, for a bidirectional model)."""

    def __init__(self, checkpoint_path: str, threads: int = 1, max_batch_size: int = 16, batch_timeout=0.002):
        super().__init__(max_batch_size=max_batch_size, batch_timeout=batch_timeout)
        self.checkpoint_path, self.threads = checkpoint_path, threads

    async def authorize(self, x_api_key: str | None = Header(None)) -> None:
        """LitServe's API-key option, as LitServe checks it (`LIT_SERVER_API_KEY`, header `X-API-Key`),
        written as a coroutine: LitServe's own check is a plain function, which FastAPI runs in a thread
        pool. `/predict` awaits it itself (app.py); LitServe's `/health` has it as its dependency."""
        key = os.environ.get("LIT_SERVER_API_KEY")
        if key and not hmac.compare_digest(x_api_key or "", key):
            raise HTTPException(401, "invalid or missing API key: send it in the X-API-Key header")

    @override
    def setup(self, device: str) -> None:
        if self.threads > 0:
            torch.set_num_threads(self.threads)
        self.reader = DigitReader.from_checkpoint(self.checkpoint_path, device)

    @override
    def decode_request(self, request) -> Tensor | BadInput:  # the body's JSON bytes (app.RawBodyHandler)
        try:
            parsed = orjson.loads(request)
        except orjson.JSONDecodeError as error:
            return BadInput(f"the body is not valid JSON ({error})".splitlines()[0])
        try:
            return request_to_image(parsed)
        except UserInputError as error:
            return BadInput(str(error))

    @override
    def batch(self, inputs: list) -> list:
        return inputs  # `predict` stacks the good ones itself

    @override
    def predict(self, inputs: list | Tensor | BadInput) -> list | dict | BadInput:
        single = not isinstance(inputs, list)
        batch = [inputs] if single else inputs
        good = [index for index, item in enumerate(batch) if isinstance(item, Tensor)]
        outputs: list = list(batch)
        if good:
            images = torch.stack([batch[index] for index in good])
            reading = self.reader.read(images)
            probabilities = reading.probabilities.cpu().numpy()
            steps = None if reading.steps is None else reading.steps.cpu().numpy()
            for row, index in enumerate(good):
                outputs[index] = {
                    "input": batch[index].numpy(),
                    "probabilities": probabilities[row],
                    "steps": None if steps is None else steps[row],
                }
        return outputs[0] if single else outputs

    @override
    def unbatch(self, output: list) -> list:
        return output

    @override
    def encode_response(self, output: dict | BadInput) -> Response:
        if isinstance(output, BadInput):
            return json_response({"error": output.message}, 400)
        probabilities = output["probabilities"]
        digit = int(probabilities.argmax())
        answer = {
            "digit": digit,
            "probability": probabilities[digit],  # float32 as the list's, so the two print alike
            "probabilities": probabilities,
            "input": output["input"],
            "steps": output["steps"],
        }
        if output["steps"] is None:
            answer["steps_note"] = NO_READING
        return json_response(answer)
