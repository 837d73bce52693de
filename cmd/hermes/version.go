package main

import (
	"io"
	"text/template"

	"github.com/spf13/cobra"
)

// newVersionCmd is "hermes version": what "hermes --version" prints,
// rendered from the same template.
func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print hermes's version (as --version does)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			t, err := template.New("version").Parse(root.VersionTemplate())
			if err != nil {
				return err
			}
			return t.Execute(stdout, root)
		},
	}
}
