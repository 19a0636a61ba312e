package model

// patchify cuts images [b, C, H, W] into patch vectors [b·L, p·p·C], patches
// in row-major order. With convOrder a vector is laid out (c, p, q), as the
// patch-embedding convolution's kernel; otherwise (p, q, c), as the released
// patchify that makes the loss target.
func patchify(c Config, images, out []float32, convOrder bool) {
	walkPatches(c, len(images)/(c.InChans*c.ImgSize*c.ImgSize), convOrder, func(i, pixel int) { out[i] = images[pixel] })
}

// walkPatches calls f(i, pixel) for every value of b images' patch vectors:
// i indexes the patch vectors [b·L, p·p·C] in the order patchify writes
// them, pixel the images [b, C, H, W].
func walkPatches(c Config, b int, convOrder bool, f func(i, pixel int)) {
	p, ch, g, s := c.PatchSize, c.InChans, c.Grid(), c.ImgSize
	i := 0
	for e := 0; e < b; e++ {
		for gh := 0; gh < g; gh++ {
			for gw := 0; gw < g; gw++ {
				for a := 0; a < p*p*ch; a++ {
					var k, y, x int
					if convOrder {
						k, y, x = a/(p*p), a/p%p, a%p
					} else {
						y, x, k = a/(p*ch), a/ch%p, a%ch
					}
					f(i, ((e*ch+k)*s+gh*p+y)*s+gw*p+x)
					i++
				}
			}
		}
	}
}

// Patchify cuts images [b, C, H, W] into the released code's patch vectors
// [b, L, p·p·C], each laid out (p, q, c): the layout of the loss target and
// of the decoder's prediction.
func (c Config) Patchify(images []float32) []float32 {
	out := make([]float32, len(images))
	patchify(c, images, out, false)
	return out
}

// Unpatchify puts patch vectors [b, L, p·p·C] back together into images
// [b, C, H, W], undoing Patchify.
func (c Config) Unpatchify(patches []float32) []float32 {
	images := make([]float32, len(patches))
	walkPatches(c, len(patches)/(c.NumPatches()*c.PatchDim()), false, func(i, pixel int) { images[pixel] = patches[i] })
	return images
}
