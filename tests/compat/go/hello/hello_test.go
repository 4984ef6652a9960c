package main

import (
	"os"
	"testing"
)

func TestGreeting(t *testing.T) {
	if Greeting("x") != "hello x" {
		t.Fatal(Greeting("x"))
	}
}

func TestTempFile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "t")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("x"); err != nil {
		t.Fatal(err)
	}
}
