package model

import "fmt"

// Config describes a masked autoencoder with the keys of the released
// constructors (model/crate_ae/crate_ae.py in Ma-Lab-Berkeley/CRATE).
type Config struct {
	Arch            string  `toml:"arch" json:"arch"`                           // "crate" (CRATE-MAE) or "vit" (MAE)
	ImgSize         int     `toml:"img_size" json:"img_size"`                   // image side in pixels
	PatchSize       int     `toml:"patch_size" json:"patch_size"`               // patch side in pixels
	InChans         int     `toml:"in_chans" json:"in_chans"`                   // image channels
	EmbedDim        int     `toml:"embed_dim" json:"embed_dim"`                 // encoder width
	Depth           int     `toml:"depth" json:"depth"`                         // encoder blocks
	NumHeads        int     `toml:"num_heads" json:"num_heads"`                 // encoder heads
	DecoderEmbedDim int     `toml:"decoder_embed_dim" json:"decoder_embed_dim"` // decoder width
	DecoderDepth    int     `toml:"decoder_depth" json:"decoder_depth"`         // decoder blocks
	DecoderNumHeads int     `toml:"decoder_num_heads" json:"decoder_num_heads"` // decoder heads
	MLPRatio        float64 `toml:"mlp_ratio" json:"mlp_ratio"`                 // vit MLP hidden width / width
	StepSize        float64 `toml:"step_size" json:"step_size"`                 // ISTA step η (crate)
	Lambd           float64 `toml:"lambd" json:"lambd"`                         // ISTA sparsity λ (crate)
	Masking         string  `toml:"masking" json:"masking"`                     // "released" or "visible"
	NormPixLoss     bool    `toml:"norm_pix_loss" json:"norm_pix_loss"`         // standardise target patches
}

// Masking modes.
const (
	// MaskingReleased is what the released CRATE-MAE code does: mask tokens
	// take the removed patches' places before the encoder, which sees the
	// whole sequence; decoder_embed exists but is unused.
	MaskingReleased = "released"
	// MaskingVisible is the MAE paper's: the encoder sees the cls token and
	// the visible patches; decoder_embed maps them to the decoder width and
	// mask tokens are put back before the decoder.
	MaskingVisible = "visible"
)

// Architectures.
const (
	ArchCRATE = "crate"
	ArchViT   = "vit"
)

// preset returns a 224-pixel, 16-pixel-patch RGB model of the given widths.
func preset(arch string, dim, depth, heads, decDim, decDepth, decHeads int) Config {
	return Config{
		Arch: arch, ImgSize: 224, PatchSize: 16, InChans: 3,
		EmbedDim: dim, Depth: depth, NumHeads: heads,
		DecoderEmbedDim: decDim, DecoderDepth: decDepth, DecoderNumHeads: decHeads,
		MLPRatio: 4, StepSize: 0.1, Lambd: 0.5, Masking: MaskingReleased,
	}
}

// Presets are the released constructors, by name.
var Presets = map[string]Config{
	"mae_crate_tiny":  preset(ArchCRATE, 384, 12, 6, 384, 12, 6),
	"mae_crate_small": preset(ArchCRATE, 576, 12, 12, 576, 12, 12),
	"mae_crate_base":  preset(ArchCRATE, 768, 12, 12, 768, 12, 12),
	"mae_crate_large": preset(ArchCRATE, 1024, 24, 16, 1024, 24, 16),
	"mae_vit_base":    preset(ArchViT, 768, 12, 12, 768, 8, 16),
	"mae_vit_large":   preset(ArchViT, 1024, 24, 16, 1024, 8, 16),
	"mae_vit_huge":    func() Config { c := preset(ArchViT, 1280, 32, 16, 1280, 8, 16); c.PatchSize = 14; return c }(),
}

// DefaultPreset is the configuration a model starts from when none is named:
// the paper's CRATE-MAE-Base.
const DefaultPreset = "mae_crate_base"

// PresetNames lists the presets, CRATE-MAE then MAE, smallest first.
func PresetNames() []string {
	return []string{"mae_crate_tiny", "mae_crate_small", "mae_crate_base", "mae_crate_large",
		"mae_vit_base", "mae_vit_large", "mae_vit_huge"}
}

// Preset returns the named preset.
func Preset(name string) (Config, error) {
	c, ok := Presets[name]
	if !ok {
		return Config{}, fmt.Errorf("model.preset: unknown preset %q (known: %v)", name, PresetNames())
	}
	return c, nil
}

// Grid is the number of patches along each side of the image.
func (c Config) Grid() int { return c.ImgSize / c.PatchSize }

// NumPatches is the number of patches per image.
func (c Config) NumPatches() int { return c.Grid() * c.Grid() }

// PatchDim is the number of values in one patch, p·p·C.
func (c Config) PatchDim() int { return c.PatchSize * c.PatchSize * c.InChans }

// MLPHidden is the width of a vit block's MLP, int(width · mlp_ratio).
func (c Config) MLPHidden(width int) int { return int(float64(width) * c.MLPRatio) }

// Validate refuses configurations the model cannot be built from, naming the
// key at fault.
func (c Config) Validate() error {
	positive := []struct {
		key string
		v   int
	}{
		{"img_size", c.ImgSize}, {"patch_size", c.PatchSize}, {"in_chans", c.InChans},
		{"embed_dim", c.EmbedDim}, {"depth", c.Depth}, {"num_heads", c.NumHeads},
		{"decoder_embed_dim", c.DecoderEmbedDim}, {"decoder_depth", c.DecoderDepth},
		{"decoder_num_heads", c.DecoderNumHeads},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return fmt.Errorf("model.%s: must be positive, got %d", p.key, p.v)
		}
	}
	switch c.Arch {
	case ArchCRATE, ArchViT:
	default:
		return fmt.Errorf("model.arch: unknown architecture %q (want %q or %q)", c.Arch, ArchCRATE, ArchViT)
	}
	switch c.Masking {
	case MaskingReleased, MaskingVisible:
	default:
		return fmt.Errorf("model.masking: unknown masking %q (want %q or %q)", c.Masking, MaskingReleased, MaskingVisible)
	}
	if c.ImgSize%c.PatchSize != 0 {
		return fmt.Errorf("model.img_size: %d is not a whole number of %d-pixel patches (model.patch_size)", c.ImgSize, c.PatchSize)
	}
	if c.EmbedDim%c.NumHeads != 0 {
		return fmt.Errorf("model.num_heads: %d heads do not divide model.embed_dim %d", c.NumHeads, c.EmbedDim)
	}
	if c.DecoderEmbedDim%c.DecoderNumHeads != 0 {
		return fmt.Errorf("model.decoder_num_heads: %d heads do not divide model.decoder_embed_dim %d", c.DecoderNumHeads, c.DecoderEmbedDim)
	}
	// the 2-D sin-cos tables split the width into four sin/cos quarters
	if c.EmbedDim%4 != 0 {
		return fmt.Errorf("model.embed_dim: %d is not a multiple of 4, which the 2-D sin-cos position table needs", c.EmbedDim)
	}
	if c.DecoderEmbedDim%4 != 0 {
		return fmt.Errorf("model.decoder_embed_dim: %d is not a multiple of 4, which the 2-D sin-cos position table needs", c.DecoderEmbedDim)
	}
	if c.Masking == MaskingReleased && c.EmbedDim != c.DecoderEmbedDim {
		return fmt.Errorf("model.decoder_embed_dim: %d differs from model.embed_dim %d, which released masking cannot use (its encoder output goes straight to the decoder); set model.masking = %q or make them equal",
			c.DecoderEmbedDim, c.EmbedDim, MaskingVisible)
	}
	if c.Arch == ArchViT && c.MLPHidden(min(c.EmbedDim, c.DecoderEmbedDim)) <= 0 {
		return fmt.Errorf("model.mlp_ratio: %g gives an empty MLP", c.MLPRatio)
	}
	if c.Arch == ArchCRATE && c.StepSize <= 0 {
		return fmt.Errorf("model.step_size: the ISTA step must be positive, got %g", c.StepSize)
	}
	if c.Arch == ArchCRATE && c.Lambd < 0 {
		return fmt.Errorf("model.lambd: the ISTA sparsity weight must be >= 0, got %g", c.Lambd)
	}
	return nil
}

// Kept is the number of patches the encoder keeps at this mask ratio,
// int(L·(1-ratio)) as in the released code. It refuses ratios outside (0, 1)
// and ratios that keep no patch.
func (c Config) Kept(maskRatio float64) (int, error) {
	if !(maskRatio > 0 && maskRatio < 1) {
		return 0, fmt.Errorf("train.mask_ratio: must lie in (0, 1), got %g", maskRatio)
	}
	keep := int(float64(c.NumPatches()) * (1 - maskRatio))
	if keep < 1 {
		return 0, fmt.Errorf("train.mask_ratio: %g keeps none of the %d patches", maskRatio, c.NumPatches())
	}
	return keep, nil
}
