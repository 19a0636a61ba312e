// Package evaluation measures a pretrained masked autoencoder: how well its
// frozen features classify, how compressed and sparse its token
// representations are, and how it reconstructs masked images.
//
// The functions work on plain float32 arrays that the caller extracts from
// a model; nothing here runs one. [LinearProbe] fits a multinomial logistic
// regression on train [Features] and scores it on test features; [KNN]
// classifies test features by their nearest train neighbours under cosine
// similarity. [CodingRate] and [CodingRateHeads] measure the coding rate of
// tokens in the subspaces of attention heads, as the CRATE papers do, and
// [Sparsity] the fraction of exact zeros in an activation, [Hoyer] Hoyer's
// scale-free sparsity of its rows. [WriteReconGrid]
// draws originals, masked inputs and reconstructions side by side in a PNG,
// [WriteLabelledReconGrid] with the columns named above them.
package evaluation
