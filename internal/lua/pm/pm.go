// Lua pattern match functions for Go
package pm

import (
	"context"
	"fmt"
)

const (
	EOS               = -1
	_UNKNOWN          = -2
	maxRecursionLevel = 1000000
)

/* Error {{{ */

type Error struct {
	Pos     int
	Message string
}

func newError(pos int, message string, args ...interface{}) *Error {
	if len(args) == 0 {
		return &Error{pos, message}
	}
	return &Error{pos, fmt.Sprintf(message, args...)}
}

func (e *Error) Error() string {
	switch e.Pos {
	case EOS:
		return fmt.Sprintf("%s at EOS", e.Message)
	case _UNKNOWN:
		return fmt.Sprintf("%s", e.Message)
	default:
		return fmt.Sprintf("%s at %d", e.Message, e.Pos)
	}
}

/* }}} */

/* MatchData {{{ */

type MatchData struct {
	// captured positions
	// layout
	// xxxx xxxx xxxx xxx0 : caputured positions
	// xxxx xxxx xxxx xxx1 : position captured positions
	captures []uint32
}

func newMatchState() *MatchData { return &MatchData{[]uint32{}} }

func (st *MatchData) addPosCapture(s, pos int) {
	for s+1 >= len(st.captures) {
		st.captures = append(st.captures, 0)
	}
	st.captures[s] = (uint32(pos) << 1) | 1
	st.captures[s+1] = (uint32(pos) << 1) | 1
}

func (st *MatchData) setCapture(s, pos int) uint32 {
	for s >= len(st.captures) {
		st.captures = append(st.captures, 0)
	}
	v := st.captures[s]
	st.captures[s] = (uint32(pos) << 1)
	return v
}

func (st *MatchData) restoreCapture(s int, pos uint32) { st.captures[s] = pos }

func (st *MatchData) CaptureLength() int { return len(st.captures) }

func (st *MatchData) IsPosCapture(idx int) bool { return (st.captures[idx] & 1) == 1 }

func (st *MatchData) Capture(idx int) int { return int(st.captures[idx] >> 1) }

/* }}} */

/* scanner {{{ */

type scannerState struct {
	Pos     int
	started bool
}

type scanner struct {
	src   []byte
	State scannerState
	saved scannerState
	ncap  int // captures opened so far (hermes)
}

func newScanner(src []byte) *scanner {
	return &scanner{
		src: src,
		State: scannerState{
			Pos:     0,
			started: false,
		},
		saved: scannerState{},
	}
}

func (sc *scanner) Length() int { return len(sc.src) }

func (sc *scanner) Next() int {
	if !sc.State.started {
		sc.State.started = true
		if len(sc.src) == 0 {
			sc.State.Pos = EOS
		}
	} else {
		sc.State.Pos = sc.NextPos()
	}
	if sc.State.Pos == EOS {
		return EOS
	}
	return int(sc.src[sc.State.Pos])
}

func (sc *scanner) CurrentPos() int {
	return sc.State.Pos
}

func (sc *scanner) NextPos() int {
	if sc.State.Pos == EOS || sc.State.Pos >= len(sc.src)-1 {
		return EOS
	}
	if !sc.State.started {
		return 0
	} else {
		return sc.State.Pos + 1
	}
}

func (sc *scanner) Peek() int {
	cureof := sc.State.Pos == EOS
	ch := sc.Next()
	if !cureof {
		if sc.State.Pos == EOS {
			sc.State.Pos = len(sc.src) - 1
		} else {
			sc.State.Pos--
			if sc.State.Pos < 0 {
				sc.State.Pos = 0
				sc.State.started = false
			}
		}
	}
	return ch
}

func (sc *scanner) Save() { sc.saved = sc.State }

func (sc *scanner) Restore() { sc.State = sc.saved }

/* }}} */

/* bytecode {{{ */

type opCode int

const (
	opChar opCode = iota
	opMatch
	opTailMatch
	opJmp
	opSplit
	opSave
	opPSave
	opBrace
	opNumber
	opStar // hermes: greedy repetition of Class, one backtrack frame
	opLazy // hermes: lazy repetition of Class, one backtrack frame
)

type inst struct {
	OpCode   opCode
	Class    class
	Operand1 int
	Operand2 int
}

/* }}} */

/* classes {{{ */

type class interface {
	Matches(ch int) bool
}

type dotClass struct{}

func (pn *dotClass) Matches(ch int) bool { return true }

type charClass struct {
	Ch int
}

func (pn *charClass) Matches(ch int) bool { return pn.Ch == ch }

type singleClass struct {
	Class int
}

func (pn *singleClass) Matches(ch int) bool {
	ret := false
	switch pn.Class {
	case 'a', 'A':
		ret = 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z'
	case 'c', 'C':
		ret = (0x00 <= ch && ch <= 0x1F) || ch == 0x7F
	case 'd', 'D':
		ret = '0' <= ch && ch <= '9'
	case 'l', 'L':
		ret = 'a' <= ch && ch <= 'z'
	case 'p', 'P':
		ret = (0x21 <= ch && ch <= 0x2f) || (0x3a <= ch && ch <= 0x40) || (0x5b <= ch && ch <= 0x60) || (0x7b <= ch && ch <= 0x7e)
	case 's', 'S':
		switch ch {
		case ' ', '\f', '\n', '\r', '\t', '\v':
			ret = true
		}
	case 'u', 'U':
		ret = 'A' <= ch && ch <= 'Z'
	case 'w', 'W':
		ret = '0' <= ch && ch <= '9' || 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z'
	case 'x', 'X':
		ret = '0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F'
	case 'z', 'Z':
		ret = ch == 0
	default:
		return ch == pn.Class
	}
	if 'A' <= pn.Class && pn.Class <= 'Z' {
		return !ret
	}
	return ret
}

type setClass struct {
	IsNot   bool
	Classes []class
}

func (pn *setClass) Matches(ch int) bool {
	for _, class := range pn.Classes {
		if class.Matches(ch) {
			return !pn.IsNot
		}
	}
	return pn.IsNot
}

type rangeClass struct {
	Begin class
	End   class
}

func (pn *rangeClass) Matches(ch int) bool {
	switch begin := pn.Begin.(type) {
	case *charClass:
		end, ok := pn.End.(*charClass)
		if !ok {
			return false
		}
		return begin.Ch <= ch && ch <= end.Ch
	}
	return false
}

// }}}

// patterns {{{

type pattern interface{}

type singlePattern struct {
	Class class
}

type seqPattern struct {
	MustHead bool
	MustTail bool
	Patterns []pattern
}

type repeatPattern struct {
	Type  int
	Class class
}

type posCapPattern struct{}

type capPattern struct {
	Pattern pattern
}

type numberPattern struct {
	N int
}

type bracePattern struct {
	Begin int
	End   int
}

// }}}

/* parse {{{ */

func parseClass(sc *scanner, allowset bool) class {
	ch := sc.Next()
	switch ch {
	case '%':
		return &singleClass{sc.Next()}
	case '.':
		if allowset {
			return &dotClass{}
		}
		return &charClass{ch}
	case '[':
		if allowset {
			return parseClassSet(sc)
		}
		return &charClass{ch}
	//case '^' '$', '(', ')', ']', '*', '+', '-', '?':
	//	panic(newError(sc.CurrentPos(), "invalid %c", ch))
	case EOS:
		panic(newError(sc.CurrentPos(), "unexpected EOS"))
	default:
		return &charClass{ch}
	}
}

func parseClassSet(sc *scanner) class {
	set := &setClass{false, []class{}}
	if sc.Peek() == '^' {
		set.IsNot = true
		sc.Next()
	}
	isrange := false
	for {
		ch := sc.Peek()
		switch ch {
		// case '[':
		// 	panic(newError(sc.CurrentPos(), "'[' can not be nested"))
		case EOS:
			panic(newError(sc.CurrentPos(), "unexpected EOS"))
		case ']':
			if len(set.Classes) > 0 {
				sc.Next()
				goto exit
			}
			fallthrough
		case '-':
			if len(set.Classes) > 0 {
				sc.Next()
				isrange = true
				continue
			}
			fallthrough
		default:
			set.Classes = append(set.Classes, parseClass(sc, false))
		}
		if isrange {
			begin := set.Classes[len(set.Classes)-2]
			end := set.Classes[len(set.Classes)-1]
			set.Classes = set.Classes[0 : len(set.Classes)-2]
			set.Classes = append(set.Classes, &rangeClass{begin, end})
			isrange = false
		}
	}
exit:
	if isrange {
		set.Classes = append(set.Classes, &charClass{'-'})
	}

	return set
}

func parsePattern(sc *scanner, toplevel bool) *seqPattern {
	pat := &seqPattern{}
	if toplevel {
		if sc.Peek() == '^' {
			sc.Next()
			pat.MustHead = true
		}
	}
	for {
		ch := sc.Peek()
		switch ch {
		case '%':
			sc.Save()
			sc.Next()
			switch sc.Peek() {
			case '0':
				panic(newError(sc.CurrentPos(), "invalid capture index"))
			case '1', '2', '3', '4', '5', '6', '7', '8', '9':
				pat.Patterns = append(pat.Patterns, &numberPattern{sc.Next() - 48})
			case 'b':
				sc.Next()
				pat.Patterns = append(pat.Patterns, &bracePattern{sc.Next(), sc.Next()})
			default:
				sc.Restore()
				pat.Patterns = append(pat.Patterns, &singlePattern{parseClass(sc, true)})
			}
		case '.', '[', ']':
			pat.Patterns = append(pat.Patterns, &singlePattern{parseClass(sc, true)})
		//case ']':
		//	panic(newError(sc.CurrentPos(), "invalid ']'"))
		case ')':
			if toplevel {
				panic(newError(sc.CurrentPos(), "invalid ')'"))
			}
			return pat
		case '(':
			sc.Next()
			// hermes: Lua's limit, checked while parsing so that nested
			// captures cannot recurse deeply
			if sc.ncap++; sc.ncap > maxCaptures {
				panic(newError(_UNKNOWN, "too many captures"))
			}
			if sc.Peek() == ')' {
				sc.Next()
				pat.Patterns = append(pat.Patterns, &posCapPattern{})
			} else {
				ret := &capPattern{parsePattern(sc, false)}
				if sc.Peek() != ')' {
					panic(newError(sc.CurrentPos(), "unfinished capture"))
				}
				sc.Next()
				pat.Patterns = append(pat.Patterns, ret)
			}
		case '*', '+', '-', '?':
			sc.Next()
			if len(pat.Patterns) > 0 {
				spat, ok := pat.Patterns[len(pat.Patterns)-1].(*singlePattern)
				if ok {
					pat.Patterns = pat.Patterns[0 : len(pat.Patterns)-1]
					pat.Patterns = append(pat.Patterns, &repeatPattern{ch, spat.Class})
					continue
				}
			}
			pat.Patterns = append(pat.Patterns, &singlePattern{&charClass{ch}})
		case '$':
			if toplevel && (sc.NextPos() == sc.Length()-1 || sc.NextPos() == EOS) {
				pat.MustTail = true
			} else {
				pat.Patterns = append(pat.Patterns, &singlePattern{&charClass{ch}})
			}
			sc.Next()
		case EOS:
			sc.Next()
			goto exit
		default:
			sc.Next()
			pat.Patterns = append(pat.Patterns, &singlePattern{&charClass{ch}})
		}
	}
exit:
	return pat
}

type iptr struct {
	insts   []inst
	capture int
}

func compilePattern(p pattern, ps ...*iptr) []inst {
	var ptr *iptr
	toplevel := false
	if len(ps) == 0 {
		toplevel = true
		ptr = &iptr{[]inst{inst{opSave, nil, 0, -1}}, 2}
	} else {
		ptr = ps[0]
	}
	switch pat := p.(type) {
	case *singlePattern:
		ptr.insts = append(ptr.insts, inst{opChar, pat.Class, -1, -1})
	case *seqPattern:
		for _, cp := range pat.Patterns {
			compilePattern(cp, ptr)
		}
	case *repeatPattern:
		idx := len(ptr.insts)
		// hermes: *, + and - are single instructions that keep one
		// backtrack frame however many characters they match (upstream
		// compiled them to split/jmp loops: one frame per character).
		switch pat.Type {
		case '*':
			ptr.insts = append(ptr.insts, inst{opStar, pat.Class, -1, -1})
		case '+':
			ptr.insts = append(ptr.insts,
				inst{opChar, pat.Class, -1, -1},
				inst{opStar, pat.Class, -1, -1})
		case '-':
			ptr.insts = append(ptr.insts, inst{opLazy, pat.Class, -1, -1})
		case '?':
			ptr.insts = append(ptr.insts,
				inst{opSplit, nil, idx + 1, idx + 2},
				inst{opChar, pat.Class, -1, -1})
		}
	case *posCapPattern:
		ptr.insts = append(ptr.insts, inst{opPSave, nil, ptr.capture, -1})
		ptr.capture += 2
	case *capPattern:
		c0, c1 := ptr.capture, ptr.capture+1
		ptr.capture += 2
		ptr.insts = append(ptr.insts, inst{opSave, nil, c0, -1})
		compilePattern(pat.Pattern, ptr)
		ptr.insts = append(ptr.insts, inst{opSave, nil, c1, -1})
	case *bracePattern:
		ptr.insts = append(ptr.insts, inst{opBrace, nil, pat.Begin, pat.End})
	case *numberPattern:
		ptr.insts = append(ptr.insts, inst{opNumber, nil, pat.N, -1})
	}
	if toplevel {
		if p.(*seqPattern).MustTail {
			ptr.insts = append(ptr.insts, inst{opSave, nil, 1, -1}, inst{opTailMatch, nil, -1, -1})
		}
		ptr.insts = append(ptr.insts, inst{opSave, nil, 1, -1}, inst{opMatch, nil, -1, -1})
	}
	return ptr.insts
}

/* }}} parse */

/* VM {{{ */

// hermes: the matcher below replaces upstream's recursiveVM, which recursed
// once per split and capture (so ("a"):rep(2^20):find("a*b") grew the Go
// stack to hundreds of MiB) and could not be stopped. It runs the same
// program with an explicit backtrack stack, and checks ctx every
// checkEvery steps, so a pattern that backtracks exponentially ends at the
// caller's deadline.

const checkEvery = 1 << 10

// frame is a backtrack entry: an alternative to resume at (pc, sp); for
// a greedy repetition (kind frameStar) the next shorter one down to slot;
// for a lazy one (frameLazy) the next longer one if insts[pc-1] matches
// src[sp]; or (frameRestore) a capture slot to restore on the way back.
type frame struct {
	pc, sp int32
	slot   int32
	old    uint32
	kind   uint8
}

const (
	frameAlt = iota
	frameRestore
	frameStar
	frameLazy
)

type matcher struct {
	src   []byte
	insts []inst
	stack []frame
	steps int
	done  <-chan struct{}
	ctx   context.Context
}

func (mt *matcher) tick() error {
	mt.steps++
	if mt.steps&(checkEvery-1) != 0 || mt.done == nil {
		return nil
	}
	select {
	case <-mt.done:
		if err := mt.ctx.Err(); err != nil {
			return err
		}
		return context.Canceled
	default:
		return nil
	}
}

// matchAt runs the program at sp: whether it matched and where the match
// ends. m holds the captures.
func (mt *matcher) matchAt(sp int, m *MatchData) (bool, int, error) {
	src, insts := mt.src, mt.insts
	mt.stack = mt.stack[:0]
	pc := 0
	for {
		if err := mt.tick(); err != nil {
			return false, sp, err
		}
		inst := insts[pc]
		ok := true
		switch inst.OpCode {
		case opChar:
			if sp >= len(src) || !inst.Class.Matches(int(src[sp])) {
				ok = false
			} else {
				pc++
				sp++
			}
		case opMatch:
			return true, sp, nil
		case opTailMatch:
			if sp >= len(src) {
				return true, sp, nil
			}
			ok = false
		case opJmp:
			pc = inst.Operand1
		case opSplit:
			if len(mt.stack) >= maxRecursionLevel {
				return false, sp, newError(_UNKNOWN, "pattern/input too complex")
			}
			mt.stack = append(mt.stack, frame{pc: int32(inst.Operand2), sp: int32(sp)})
			pc = inst.Operand1
		case opStar:
			n := 0
			for sp+n < len(src) && inst.Class.Matches(int(src[sp+n])) {
				n++
			}
			if n > 0 {
				if len(mt.stack) >= maxRecursionLevel {
					return false, sp, newError(_UNKNOWN, "pattern/input too complex")
				}
				mt.stack = append(mt.stack, frame{pc: int32(pc + 1), sp: int32(sp + n - 1), slot: int32(sp), kind: frameStar})
			}
			pc++
			sp += n
		case opLazy:
			if len(mt.stack) >= maxRecursionLevel {
				return false, sp, newError(_UNKNOWN, "pattern/input too complex")
			}
			mt.stack = append(mt.stack, frame{pc: int32(pc + 1), sp: int32(sp), kind: frameLazy})
			pc++
		case opSave:
			if len(mt.stack) >= maxRecursionLevel {
				return false, sp, newError(_UNKNOWN, "pattern/input too complex")
			}
			old := m.setCapture(inst.Operand1, sp)
			mt.stack = append(mt.stack, frame{slot: int32(inst.Operand1), old: old, kind: frameRestore})
			pc++
		case opPSave:
			m.addPosCapture(inst.Operand1, sp+1)
			pc++
		case opBrace:
			ok = false
			if sp < len(src) && int(src[sp]) == inst.Operand1 {
				count := 1
				for sp = sp + 1; sp < len(src); sp++ {
					if int(src[sp]) == inst.Operand2 {
						count--
					}
					if count == 0 {
						pc++
						sp++
						ok = true
						break
					}
					if int(src[sp]) == inst.Operand1 {
						count++
					}
				}
			}
		case opNumber:
			idx := inst.Operand1 * 2
			// hermes: upstream panicked ("slice bounds out of range") on
			// an unfinished capture or a position capture at the end
			if idx >= m.CaptureLength()-1 || m.Capture(idx) > m.Capture(idx+1) || m.Capture(idx+1) > len(src) {
				return false, sp, newError(_UNKNOWN, "invalid capture index")
			}
			capture := src[m.Capture(idx):m.Capture(idx+1)]
			if sp+len(capture) > len(src) || string(capture) != string(src[sp:sp+len(capture)]) {
				ok = false
			} else {
				pc++
				sp += len(capture)
			}
		default:
			panic("should not reach here")
		}
		if ok {
			continue
		}
		// Backtrack: undo captures down to the latest alternative.
	back:
		for {
			if len(mt.stack) == 0 {
				return false, sp, nil
			}
			top := &mt.stack[len(mt.stack)-1]
			switch top.kind {
			case frameRestore:
				m.restoreCapture(int(top.slot), top.old)
			case frameAlt:
				pc, sp = int(top.pc), int(top.sp)
				mt.stack = mt.stack[:len(mt.stack)-1]
				break back
			case frameStar:
				// one character fewer, down to none
				pc, sp = int(top.pc), int(top.sp)
				if top.sp > top.slot {
					top.sp--
				} else {
					mt.stack = mt.stack[:len(mt.stack)-1]
				}
				break back
			case frameLazy:
				// one character more, if it matches
				if s := int(top.sp); s < len(src) && insts[top.pc-1].Class.Matches(int(src[s])) {
					top.sp++
					pc, sp = int(top.pc), s+1
					break back
				}
			}
			mt.stack = mt.stack[:len(mt.stack)-1]
		}
	}
}

/* }}} */

/* API {{{ */

// maxCaptures is Lua's LUA_MAXCAPTURES (hermes: upstream had no limit).
const maxCaptures = 32

// Pattern is a compiled Lua pattern (hermes).
type Pattern struct {
	insts    []inst
	mustHead bool
}

// Compile compiles a Lua pattern (hermes).
func Compile(p string) (pat *Pattern, err error) {
	defer func() {
		if v := recover(); v != nil {
			if perr, ok := v.(*Error); ok {
				err = perr
			} else {
				panic(v)
			}
		}
	}()
	sp := parsePattern(newScanner([]byte(p)), true)
	return &Pattern{insts: compilePattern(sp), mustHead: sp.MustHead}, nil
}

// Anchored reports whether the pattern starts with '^'.
func (p *Pattern) Anchored() bool { return p.mustHead }

// FindFrom returns the first match starting at offset or later (only at
// offset if the pattern is anchored), or nil, and the offset a search for
// the next match starts from. It stops with ctx's error when ctx is done
// (ctx may be nil).
func (p *Pattern) FindFrom(ctx context.Context, src []byte, offset int) (md *MatchData, next int, err error) {
	return p.Matcher(ctx, src).FindFrom(offset)
}

// Matcher is a Pattern bound to a subject and a context, for finding
// several matches without allocating the backtrack stack again (hermes).
type Matcher struct {
	p  *Pattern
	mt matcher
}

// Matcher returns a Matcher of p over src, stopping when ctx is done (ctx
// may be nil).
func (p *Pattern) Matcher(ctx context.Context, src []byte) *Matcher {
	m := &Matcher{p: p, mt: matcher{src: src, insts: p.insts, ctx: ctx}}
	if ctx != nil {
		m.mt.done = ctx.Done()
	}
	return m
}

// FindFrom is Pattern.FindFrom.
func (pm *Matcher) FindFrom(offset int) (md *MatchData, next int, err error) {
	p, mt, src := pm.p, &pm.mt, pm.mt.src
	m := newMatchState()
	for sp := offset; sp <= len(src); sp++ {
		ok, end, err := mt.matchAt(sp, m)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			return m, max(sp+1, end), nil
		}
		if p.mustHead {
			break
		}
		m.captures = m.captures[:0]
	}
	return nil, 0, nil
}

// Find returns up to limit matches (all if limit is negative) from offset.
func Find(p string, src []byte, offset, limit int) (matches []*MatchData, err error) {
	return FindContext(nil, p, src, offset, limit)
}

// FindContext is Find that stops with ctx's error when ctx is done (hermes).
func FindContext(ctx context.Context, p string, src []byte, offset, limit int) (matches []*MatchData, err error) {
	pat, err := Compile(p)
	if err != nil {
		return nil, err
	}
	matches = []*MatchData{}
	for sp := offset; sp <= len(src); {
		m, next, err := pat.FindFrom(ctx, src, sp)
		if err != nil {
			return nil, err
		}
		if m == nil {
			break
		}
		matches = append(matches, m)
		if len(matches) == limit || pat.mustHead {
			break
		}
		sp = next
	}
	return matches, nil
}

/* }}} */
