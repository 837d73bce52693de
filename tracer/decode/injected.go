package decode

// AppendInjected appends the note that follows the result of a call hermes
// changed, " (INJECTED by BY)" (" (INJECTED)" when BY is ""): one rendering
// for hermes trace, which prints the result the program got, and for the
// recorded calls hermes dump prints.
func AppendInjected(dst []byte, by string) []byte {
	dst = append(dst, " (INJECTED"...)
	if by != "" {
		dst = append(dst, " by "...)
		dst = append(dst, by...)
	}
	return append(dst, ')')
}
