package main

// int answer(void) { return 42; }
import "C"

// CgoAnswer calls C through cgo (CGO_ENABLED=1 only).
func CgoAnswer() int {
	return int(C.answer())
}
