//go:build goexperiment.simd && amd64

package cosloss

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The rule of kernel_avx2.go: no path from a 256- or 512-bit instruction
// reaches a legacy-SSE instruction, a call (except to another section) or
// a return without a VZEROUPPER between. This builds the package's test binary (`go test`
// strips the running one's symbols), disassembles every function of the
// vector sets with binutils' objdump (Go's own objdump does not decode
// every VEX and EVEX instruction) and scans each in address order: a
// conservative stand-in for every path, as the sections are loops that
// fall through to their VZEROUPPER.
func TestSIMDSectionsClearUpperBits(t *testing.T) {
	objdump, err := exec.LookPath("objdump")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("binutils' objdump is needed to check the SIMD sections")
		}
		t.Skip("no objdump (binutils)")
	}
	bin := filepath.Join(t.TempDir(), "cosloss.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOEXPERIMENT=simd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	out, err := exec.Command(objdump, "-d", "--no-show-raw-insn", bin).Output()
	if err != nil {
		t.Fatalf("objdump: %v", err)
	}
	violations, functions := simdViolations(out)
	if functions < 10 {
		t.Fatalf("found only %d functions of the vector sets in the disassembly", functions)
	}
	for _, v := range violations {
		t.Error(v)
	}
	t.Logf("checked %d functions of the vector sets", functions)
}

var (
	funcHeader = regexp.MustCompile(`^[0-9a-f]+ <(.*)>:$`)
	// Assembly functions (gemm_avx512_amd64.s) appear under their ABI0
	// names, with the suffix .abi0.
	vectorSet = regexp.MustCompile(`cosloss\.(avx2|avx512)[A-Za-z0-9_]*(\[.*\]|\.abi0)?$`)
	wideReg   = regexp.MustCompile(`%[yz]mm`)
)

// simdViolations scans objdump's output and describes each instruction of
// a vector-set function that runs with dirty upper halves where it must
// not; it also counts the functions it scanned.
func simdViolations(disasm []byte) (violations []string, functions int) {
	var name string
	dirty := false
	scan := bufio.NewScanner(bytes.NewReader(disasm))
	for scan.Scan() {
		line := scan.Text()
		if m := funcHeader.FindStringSubmatch(line); m != nil {
			name, dirty = "", false
			if vectorSet.MatchString(m[1]) && !strings.Contains(m[1], "_test") {
				name = m[1]
				functions++
			}
			continue
		}
		if name == "" {
			continue
		}
		fields := strings.SplitN(strings.TrimSpace(line), "\t", 2)
		if len(fields) < 2 {
			continue
		}
		inst := strings.TrimSpace(fields[1])
		mnemonic := strings.Fields(inst)[0]
		switch {
		case mnemonic == "vzeroupper" || mnemonic == "vzeroall":
			dirty = false
		case wideReg.MatchString(inst):
			dirty = true
		case dirty && strings.HasPrefix(mnemonic, "call") && strings.HasSuffix(inst, "Section>"):
			// A section may call another: it holds no scalars, and the
			// callee clears the upper halves before it returns.
		case dirty && (strings.HasPrefix(mnemonic, "call") || strings.HasPrefix(mnemonic, "ret")):
			violations = append(violations, name+": "+mnemonic+" with dirty upper halves at "+fields[0])
		case dirty && strings.Contains(inst, "%xmm") && !strings.HasPrefix(mnemonic, "v"):
			violations = append(violations, name+": legacy SSE "+inst+" with dirty upper halves at "+fields[0])
		}
	}
	return violations, functions
}
