package bench

import (
	"bytes"
	"image/png"
	"math"
	"testing"
	"time"
)

// TestWriteChart draws two panels and checks the picture: its size, and that
// each series left pixels of its colour (a point off the scale or a series
// dropped would leave none).
func TestWriteChart(t *testing.T) {
	sizes := []int{1_000_000, 5_000_000, 20_000_000}
	panels := []Panel{
		{Title: "Q1", Series: []Series{{"ENGINE", ColorEngine, []float64{0.05, 0.1, 0.2}}, {"DUCKDB RAW", ColorDuckRaw, []float64{2, 8, 30}}}},
		{Title: "Q2", Series: []Series{{"ENGINE", ColorEngine, []float64{0.1, math.NaN(), 0.4}}, {"DUCKDB RAW", ColorDuckRaw, []float64{5, 20, 80}}}},
	}
	var buf bytes.Buffer
	if err := WriteChart(&buf, "Query time against line items", sizes, panels); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 490 {
		t.Errorf("size %v, want 1200×490", b)
	}
	// The title is drawn in an anti-aliased TrueType face: dark pixels and
	// grey edge pixels in its line.
	dark, edge := 0, 0
	for y := 10; y < 40; y++ {
		for x := 0; x < 300; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			switch l := (r + g + b) / 3 >> 8; {
			case l < 60:
				dark++
			case l > 80 && l < 200:
				edge++
			}
		}
	}
	if dark < 50 || edge < 20 {
		t.Errorf("title: %d dark and %d grey pixels, want the text drawn anti-aliased", dark, edge)
	}
	for _, c := range []struct {
		name string
		r    uint8
	}{{"engine", ColorEngine.R}, {"duckdb raw", ColorDuckRaw.R}} {
		n := 0
		b := img.Bounds()
		for y := 70; y < b.Max.Y; y++ { // below the legend
			for x := 0; x < b.Max.X; x++ {
				r, _, _, _ := img.At(x, y).RGBA()
				if uint8(r>>8) == c.r {
					n++
				}
			}
		}
		if n < 100 {
			t.Errorf("%s: %d pixels of its colour in the panels", c.name, n)
		}
	}
}

func TestSummarise(t *testing.T) {
	samples := make([]time.Duration, 100)
	for i := range samples {
		samples[i] = time.Duration(100 - i) // 100 down to 1
	}
	got := Summarise(samples)
	if got.Runs != 100 || got.Median != 51 || got.P99 != 99 || got.Min != 1 {
		t.Errorf("Summarise(1..100) = %+v, want median 51, p99 99, min 1", got)
	}
}
