"""StyleGAN2 generators: the network, its ops, and readers for the checkpoints people have."""
