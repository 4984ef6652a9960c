//go:build !cgo

package main

// CgoAnswer without cgo (CGO_ENABLED=0).
func CgoAnswer() int {
	return 0
}
