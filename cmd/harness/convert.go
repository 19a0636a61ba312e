package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"harness/weights"
)

func newConvertCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "convert IN.pth OUT.safetensors",
		Short: "Convert a PyTorch checkpoint of the released code to safetensors",
		Long: `Reads a checkpoint written by torch.save (the state_dict directly, or under
"model" or "state_dict", any "module." prefix dropped) and writes its tensors,
in order and byte for byte, under the released parameter names.`,
		Example: `  harness convert checkpoint-399.pth crate_base.safetensors`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, out := args[0], args[1]
			f, err := weights.ReadTorch(in)
			if err != nil {
				return invalid(err)
			}
			f.Metadata = map[string]string{"format": "pt", "converted_from": filepath.Base(in)}
			if err := weights.WriteSafetensors(out, f); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d tensors to %s\n", len(f.Tensors), out)
			return nil
		},
	}
}
