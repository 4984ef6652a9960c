// hello: fvm's compat test of Go. File I/O, metadata, a listing, rename and removal
// through Go's own system calls (package os), then the cgo answer (cgo.go, nocgo.go).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func check(err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "exit-3" {
		os.Exit(3)
	}
	check(os.MkdirAll("out/a/b", 0o755))
	check(os.WriteFile("out/a/b/f.txt", []byte(Greeting("go")+"\n"), 0o644))
	data, err := os.ReadFile("out/a/b/f.txt")
	check(err)
	fmt.Print(string(data))
	st, err := os.Stat("out/a/b/f.txt")
	check(err)
	fmt.Println("size", st.Size(), "mode", st.Mode())
	check(os.Rename("out/a/b/f.txt", "out/a/g.txt"))
	_, err = os.Stat("out/a/b/f.txt")
	fmt.Println("after rename:", os.IsNotExist(err))
	ents, err := os.ReadDir("out/a")
	check(err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	fmt.Println("listing:", names)
	check(os.Symlink("g.txt", "out/a/link"))
	target, err := os.Readlink("out/a/link")
	check(err)
	fmt.Println("link:", target)
	check(os.RemoveAll("out/a/b"))
	wd, err := os.Getwd()
	check(err)
	fmt.Println("cwd base:", filepath.Base(wd))
	fmt.Println("cgo:", CgoAnswer())
}

// Greeting is what the test checks.
func Greeting(who string) string {
	return "hello " + who
}
