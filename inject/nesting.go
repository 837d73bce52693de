package inject

import (
	"bytes"
	"fmt"
)

// maxSyntaxLevels bounds how deeply a script's blocks, brackets and unary
// operators nest, as Lua 5.1's LUAI_MAXCCALLS does ("chunk has too many
// syntax levels"). gopher-lua has no such limit: its compiler recurses once
// per level, and 200,000 nested do ... end blocks (1.4 MB) took 110 s and
// 300 MiB to compile.
const maxSyntaxLevels = 200

// checkNesting scans src with a small Lua tokenizer (comments, strings and
// long brackets are skipped) and refuses a script that nests deeper than
// maxSyntaxLevels: blocks (function, do, then, repeat), brackets ( { [ and
// runs of unary operators (- not #). It errs on the side of letting the
// parser report malformed code.
func checkNesting(name string, src []byte) error {
	depth, unary, line := 0, 0, 1
	operand := false // the previous token ends an operand: a '-' after it is binary
	tooDeep := func() error {
		return &LoadError{Pos: fmt.Sprintf("%s:%d", name, line), Msg: fmt.Sprintf("chunk has too many syntax levels (more than %d)", maxSyntaxLevels)}
	}
	open := func() error {
		if depth++; depth > maxSyntaxLevels {
			return tooDeep()
		}
		return nil
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			i += 2
			if lvl, ok := longBracket(src, i); ok {
				i = skipLong(src, i, lvl, &line)
			} else {
				for i < len(src) && src[i] != '\n' {
					i++
				}
			}
			continue
		case c == '[':
			if lvl, ok := longBracket(src, i); ok {
				i = skipLong(src, i, lvl, &line)
				operand, unary = true, 0
				continue
			}
		case c == '"' || c == '\'':
			i++
			for i < len(src) && src[i] != c && src[i] != '\n' {
				if src[i] == '\\' && i+1 < len(src) {
					if src[i+1] == '\n' {
						line++
					}
					i++
				}
				i++
			}
			i++
			operand, unary = true, 0
			continue
		case isNameStart(c):
			j := i
			for j < len(src) && (isNameStart(src[j]) || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			word := string(src[i:j])
			i = j
			operand = false
			switch word {
			case "function", "do", "then", "repeat":
				if err := open(); err != nil {
					return err
				}
			case "end", "until", "elseif":
				depth--
			case "not":
				if unary++; unary > maxSyntaxLevels {
					return tooDeep()
				}
				continue
			case "nil", "true", "false":
				operand = true
			case "and", "or", "local", "return", "if", "while", "for", "in", "else", "break":
			default:
				operand = true
			}
			unary = 0
			continue
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			for i < len(src) && (isNameStart(src[i]) || src[i] >= '0' && src[i] <= '9' || src[i] == '.' ||
				(src[i] == '-' || src[i] == '+') && (src[i-1] == 'e' || src[i-1] == 'E')) {
				i++
			}
			operand, unary = true, 0
			continue
		}
		// punctuation
		i++
		switch c {
		case '(', '{', '[':
			if err := open(); err != nil {
				return err
			}
			operand, unary = false, 0
		case ')', '}', ']':
			depth--
			operand, unary = true, 0
		case '-', '#':
			if c == '-' && operand {
				operand, unary = false, 0 // binary minus
				break
			}
			if unary++; unary > maxSyntaxLevels {
				return tooDeep()
			}
		default:
			operand, unary = false, 0
			if c == '.' && bytes.HasPrefix(src[i:], []byte("..")) {
				i += 2 // ... is an operand
				operand = true
			}
		}
	}
	return nil
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// longBracket reports whether src[i:] opens a long bracket [==[ and its
// level.
func longBracket(src []byte, i int) (int, bool) {
	if i >= len(src) || src[i] != '[' {
		return 0, false
	}
	j := i + 1
	for j < len(src) && src[j] == '=' {
		j++
	}
	if j < len(src) && src[j] == '[' {
		return j - i - 1, true
	}
	return 0, false
}

// skipLong skips the long bracket of level lvl opening at src[i] and
// returns the index after its end (or len(src)), counting lines.
func skipLong(src []byte, i, lvl int, line *int) int {
	i += lvl + 2
	for i < len(src) {
		switch src[i] {
		case '\n':
			*line++
		case ']':
			j := i + 1
			for j < len(src) && src[j] == '=' {
				j++
			}
			if j-i-1 == lvl && j < len(src) && src[j] == ']' {
				return j + 1
			}
		}
		i++
	}
	return i
}
