package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"harness/parity"
)

func newParityCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "parity CASE.safetensors...",
		Short: "Check the models against parity cases of the released code",
		Long: `For each parity case (format ` + parity.Format + `), builds the model from the
case's metadata, loads its weights, runs forward with the case's noise and
backward, and compares loss, prediction, mask and every gradient. A case
passes when |loss - expected| <= 1e-4·max(1, |expected|) and, for the
prediction and each gradient, max |got - expected| <= 2e-3·max(1, max |expected|).
Exit status: 0 all pass, 1 some case fails, 2 a file cannot be read.`,
		Example: `  harness parity ../shared/golden/*.safetensors
  harness parity --json crate_tiny.safetensors`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cases := make([]*parity.Case, len(args))
			for i, path := range args {
				c, err := parity.Read(path)
				if err != nil {
					return invalid(err)
				}
				cases[i] = c
			}
			fails := 0
			out := cmd.OutOrStdout()
			for i, c := range cases {
				name := strings.TrimSuffix(filepath.Base(args[i]), ".safetensors")
				r, err := parity.Check(name, c)
				if err != nil {
					return invalid(fmt.Errorf("parity case %s: %w", args[i], err))
				}
				if !r.OK {
					fails++
				}
				if asJSON {
					b, _ := json.Marshal(r)
					fmt.Fprintln(out, string(b))
				} else {
					fmt.Fprintln(out, r)
				}
			}
			if fails > 0 {
				return failed(fmt.Errorf("%d of %d parity cases failed", fails, len(cases)))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per case")
	return cmd
}
