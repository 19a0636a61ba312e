package model

import "math"

// posEmbed2D is the fixed 2-D sin-cos position table of MAE, [1+grid², dim]
// row-major: a zero row for the cls token, then one row per patch in
// row-major (h, w) order. The first half of the channels encodes the w
// coordinate and the second half h, each as [sin(pos·ω), cos(pos·ω)] with
// ωᵢ = 10000^(-i/(dim/4)). Computed in float64, stored as float32.
func posEmbed2D(dim, grid int) []float32 {
	table := make([]float32, (1+grid*grid)*dim)
	half, quarter := dim/2, dim/4
	for h := 0; h < grid; h++ {
		for w := 0; w < grid; w++ {
			row := table[(1+h*grid+w)*dim : (2+h*grid+w)*dim]
			for axis, pos := range []float64{float64(w), float64(h)} {
				part := row[axis*half : (axis+1)*half]
				for i := 0; i < quarter; i++ {
					omega := 1 / math.Pow(10000, float64(i)/(float64(half)/2))
					part[i] = float32(math.Sin(pos * omega))
					part[quarter+i] = float32(math.Cos(pos * omega))
				}
			}
		}
	}
	return table
}
