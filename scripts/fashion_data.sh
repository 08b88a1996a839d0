#!/usr/bin/env bash
# Puts Fashion-MNIST into data/FashionMNIST/raw/ from Debian's package, offline.
# Debian recompressed the .gz files, so torchvision's md5 check of them would fail: they are
# decompressed here, which is the form torchvision reads without any check.
set -euo pipefail
cd "$(dirname "$0")/.."
source=/usr/share/datasets/fashion-mnist
if [ ! -d "$source" ]; then
  apt-get install -y -q dataset-fashion-mnist >/dev/null
fi
mkdir -p data/FashionMNIST/raw
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  gzip -dc "$source/$name.gz" > "data/FashionMNIST/raw/$name"
done
ls -l data/FashionMNIST/raw
