"""Pretrained inputs: torchvision's ImageNet weights (`image_weights`) and word vectors (`word_vectors`)."""
