// goecho reads its standard input line by line and writes each line in
// upper case to its standard output, then "N lines". It exits 0.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	n := 0
	for sc.Scan() {
		n++
		fmt.Println(strings.ToUpper(sc.Text()))
	}
	fmt.Printf("%d lines\n", n)
}
