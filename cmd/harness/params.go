package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"harness/ablations"
	"harness/internal/numfmt"
	"harness/model"
	"harness/training"
)

func newParamsCmd() *cobra.Command {
	var sets []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "params [PRESET...]",
		Short: "Count the parameters of presets or configurations",
		Long: `Prints total and trainable parameter counts and the encoder/decoder split.
Total counts the two fixed position tables as PyTorch's model.parameters()
does; trainable leaves them out. Without a preset it lists every preset, or,
with --set, the default preset (` + model.DefaultPreset + `) with the overrides.
--set applies on top of each preset named.`,
		Example: `  harness params
  harness params mae_crate_base mae_vit_base
  harness params mae_crate_tiny --set model.img_size=32 --set model.patch_size=4 --json`,
		Args: keyValueArgs(&sets, cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			names := args
			if len(names) == 0 {
				names = model.PresetNames()
				if len(sets) > 0 {
					names = []string{model.DefaultPreset}
				}
			}
			rows := make([]paramsRow, 0, len(names))
			for _, name := range names {
				c, err := model.Preset(name)
				if err != nil {
					return invalid(err)
				}
				if err := applyModelSets(&c, sets); err != nil {
					return invalid(err)
				}
				n, err := model.CountParams(c)
				if err != nil {
					return invalid(fmt.Errorf("%s: %w", name, err))
				}
				rows = append(rows, paramsRow{Preset: name, Arch: c.Arch, Overrides: sets, Counts: n, Config: c})
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			printParams(cmd.OutOrStdout(), rows)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a model key, as model.KEY=VALUE (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

type paramsRow struct {
	Preset    string   `json:"preset"`
	Arch      string   `json:"arch"`
	Overrides []string `json:"overrides,omitempty"`
	model.Counts
	Config model.Config `json:"config"`
}

// applyModelSets applies model.KEY=VALUE overrides to c.
func applyModelSets(c *model.Config, sets []string) error {
	for _, s := range sets {
		if !strings.HasPrefix(s, "model.") {
			return fmt.Errorf("--set %s: only model.* keys change parameter counts", s)
		}
	}
	spec := training.DefaultSpec()
	spec.Model = *c
	spec, err := ablations.Override(spec, sets)
	*c = spec.Model
	return err
}

func printParams(w io.Writer, rows []paramsRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "preset\tarch\ttotal\ttrainable\tencoder\tdecoder\t")
	for _, r := range rows {
		name := r.Preset
		if len(r.Overrides) > 0 {
			name += " " + strings.Join(r.Overrides, " ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", name, r.Arch,
			numfmt.Thousands(r.Total), numfmt.Thousands(r.Trainable), numfmt.Thousands(r.Encoder), numfmt.Thousands(r.Decoder))
	}
	tw.Flush()
}
