package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// csvResult is what a reader made of an input: each record with the line
// each field starts on, and the error that ended it.
type csvResult struct {
	Records [][]string
	Lines   [][]int
	Err     string
}

// readAllCSV reads input with encoding/csv as the importer once did.
func readAllCSV(input string) csvResult {
	cr := csv.NewReader(strings.NewReader(input))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var res csvResult
	for {
		rec, err := cr.Read()
		if err != nil {
			if err != io.EOF {
				res.Err = err.Error()
			}
			return res
		}
		lines := make([]int, len(rec))
		for i := range rec {
			lines[i], _ = cr.FieldPos(i)
		}
		res.Records, res.Lines = append(res.Records, rec), append(res.Lines, lines)
	}
}

// readAllFast reads input with a recordReader of a buffer of bufSize bytes
// through r, which may return the input in small reads.
func readAllFast(r io.Reader, bufSize int) (csvResult, bool) {
	rr := &recordReader{r: r, buf: make([]byte, bufSize)}
	var res csvResult
	for {
		rec, err := rr.read()
		if err != nil {
			if err != io.EOF {
				var pe *csv.ParseError
				if errors.As(err, &pe) { // lines as in the whole input
					pe.StartLine += rr.lineBase
					pe.Line += rr.lineBase
				}
				res.Err = err.Error()
			}
			return res, rr.slow != nil
		}
		lines := make([]int, len(rec))
		for i := range rec {
			lines[i] = rr.fieldLine(i)
		}
		res.Records, res.Lines = append(res.Records, slicesClone(rec)), append(res.Lines, lines)
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// checkSameAsCSV fails unless the recordReader reads input as encoding/csv
// does, with buffers small and large and reads of one byte.
func checkSameAsCSV(t *testing.T, input string) (slow bool) {
	t.Helper()
	want := readAllCSV(input)
	for _, size := range []int{readBufferSize, 64, 7} {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(input)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			got, s := readAllFast(r, size)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("input %q (buffer %d, one-byte reads %v):\n got %+v\nwant %+v", input, size, oneByte, got, want)
			}
			if size == readBufferSize && !oneByte {
				slow = s
			}
		}
	}
	return slow
}

func TestRecordReader_SameAsEncodingCSV(t *testing.T) {
	tests := []struct {
		name  string
		input string
		fast  bool // read without encoding/csv
	}{
		{"Plain", "a,b,c\n1,2,3\n", true},
		{"NoFinalLineEnd", "a,b\n1,2", true},
		{"CRLF", "a,b\r\n1,2\r\n", true},
		{"CRBeforeEOF", "a,b\r\n1,2\r", true},
		{"EmptyLines", "\n\na,b\n\r\n\n1,2\n\n", true},
		{"LeadingSpace", "  a,\tb, \u00a0c,\u2003d\n", true},
		{"TrailingSpace", "a ,b  \n", true},
		{"SpacesOnlyLine", "   \na\n", true},
		{"EmptyFields", ",,\n,\n", true},
		{"Quoted", `"a","b,c","d""e"` + "\n" + `x,"",y` + "\n", true},
		{"QuotedAfterSpace", `a,  "b,c"` + "\n", true},
		{"QuotedNewlines", "a,\"two\nlines\n\",b\nc,d\n", true},
		{"QuotedCRLFs", "a,\"two\r\nlines\",b\r\nc,d\r\n", false},
		{"QuotedAtEOF", `a,"b"`, true},
		{"QuotedEmptyAtEOF", `a,""`, true},
		{"NonASCII", "Équipe,naïve,日本\n", true},
		{"ErrBareQuote", "a,b\"c\nd\n", false},
		{"ErrQuoteInQuoted", "a,\"b\"c\"\n", false},
		{"ErrUnterminated", "a,\"b\nc\n", false},
		{"ErrSpaceAfterQuote", "\"a\" ,b\n", false},
		{"LoneCR", "a\rb,c\n", false},
		{"LoneCRLine", "\r\ra,b\n", false},
		{"NUL", "a\x00,b\n", true},
		{"InvalidUTF8", "\xff,\xc3\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if slow := checkSameAsCSV(t, tt.input); slow == tt.fast {
				t.Errorf("read by encoding/csv: %v, want %v", slow, !tt.fast)
			}
		})
	}
}

// TestRecordReader_RandomInputs compares the readers on random inputs over
// the bytes that matter to CSV.
func TestRecordReader_RandomInputs(t *testing.T) {
	alphabet := []string{"a", "b", " ", "\t", ",", ",", "\"", "\"", "\n", "\n", "\r", "\r\n", "é", "\u00a0", "\u0085", "\x00", "\xff"}
	rng := rand.New(rand.NewPCG(14, 1))
	for i := range 3000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkSameAsCSV(t, b.String()) })
	}
}

func FuzzRecordReader(f *testing.F) {
	f.Add("a,b\n\"c\"\"d\",e\r\n")
	f.Add("a,\"b\nc\",d")
	f.Fuzz(func(t *testing.T, input string) { checkSameAsCSV(t, input) })
}

func TestIsPlainASCII(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"", true}, {"abc", true}, {strings.Repeat("a,b ", 9), true},
		{strings.Repeat("a", 17) + "\x00", false}, {"\x00" + strings.Repeat("a", 17), false},
		{strings.Repeat("a", 9) + "é", false}, {"é" + strings.Repeat("a", 9), false}, {"\x7f\x01", true},
	} {
		if got := isPlainASCII(tt.s); got != tt.want {
			t.Errorf("isPlainASCII(%q) = %v", tt.s, got)
		}
	}
}
