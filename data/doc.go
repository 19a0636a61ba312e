// Package data loads the image datasets of the harness and feeds them to
// models.
//
// A dataset is read whole into memory as 8-bit pixels laid out
// [N][C][H][W] (see [Images]). [Open] validates a [Config], loads the train
// and test splits, and prepares the [Transform] that turns a stored image
// into the float32 [C][H][W] input of a model: bilinear resize or zero
// padding to a square, channel replication or luminance, and per-channel
// normalisation.
//
// Supported sources are directories of IDX files (MNIST, Fashion-MNIST,
// KMNIST, ...), the binary versions of CIFAR-10 and CIFAR-100, folders of
// PNG and JPEG images sorted into one folder per class, and a synthetic set
// of procedurally drawn images for tests and smoke runs.
//
// A [Loader] serves training batches in an order fixed by a seed and the
// step number, preparing them in the background, so a run resumed from a
// checkpoint at step k sees exactly the batches an uninterrupted run would
// have seen. [Split.Batches] walks a split in order for evaluation.
package data
