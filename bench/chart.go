package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strings"
)

// Series is one line of a chart panel: a value in milliseconds per dataset
// size (line items). Missing points are NaN.
type Series struct {
	Name  string
	Color color.RGBA
	Ms    []float64
}

// Panel is one query's chart: time against line-item count.
type Panel struct {
	Title  string
	Series []Series
}

// Chart colours, one per engine.
var (
	ColorEngine     = color.RGBA{31, 119, 180, 255}
	ColorServer     = color.RGBA{44, 160, 44, 255}
	ColorDuckRollup = color.RGBA{255, 127, 14, 255}
	ColorDuckRaw    = color.RGBA{214, 39, 40, 255}
)

// WriteChart draws panels in a grid of two columns, all with log-scaled axes
// sharing one y range, and a legend, as a PNG. It uses only the standard
// library (a 5×7 bitmap font is built in).
func WriteChart(w io.Writer, title string, sizes []int, panels []Panel) error {
	const (
		cols, panelW, panelH = 2, 600, 400
		top, scale           = 90, 2
	)
	rowsN := (len(panels) + cols - 1) / cols
	img := image.NewRGBA(image.Rect(0, 0, cols*panelW, top+rowsN*panelH))
	fill(img, img.Bounds(), color.RGBA{255, 255, 255, 255})
	black := color.RGBA{0, 0, 0, 255}
	drawText(img, 20, 14, title, black, scale)

	// Legend from the first panel's series.
	if len(panels) > 0 {
		x := 20
		for _, s := range panels[0].Series {
			fill(img, image.Rect(x, 52, x+30, 58), s.Color)
			drawText(img, x+38, 48, s.Name, black, scale)
			x += 38 + textWidth(s.Name, scale) + 30
		}
	}

	// One y range for every panel, in whole decades.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range panels {
		for _, s := range p.Series {
			for _, v := range s.Ms {
				if v > 0 && !math.IsNaN(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0.01, 100
	}
	ylo, yhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if yhi <= ylo {
		yhi = ylo + 1
	}
	xlo, xhi := math.Log10(float64(sizes[0])), math.Log10(float64(sizes[len(sizes)-1]))
	if xhi-xlo < 0.3 {
		xlo, xhi = xlo-0.3, xhi+0.3
	}
	pad := (xhi - xlo) * 0.08
	xlo, xhi = xlo-pad, xhi+pad

	grey := color.RGBA{220, 220, 220, 255}
	for i, p := range panels {
		ox, oy := (i%cols)*panelW, top+(i/cols)*panelH
		plot := image.Rect(ox+100, oy+40, ox+panelW-30, oy+panelH-60)
		px := func(n float64) int {
			return plot.Min.X + int((math.Log10(n)-xlo)/(xhi-xlo)*float64(plot.Dx()))
		}
		py := func(ms float64) int {
			return plot.Max.Y - int((math.Log10(ms)-ylo)/(yhi-ylo)*float64(plot.Dy()))
		}
		drawText(img, ox+20, oy+12, p.Title, black, scale)
		for d := ylo; d <= yhi; d++ {
			y := py(math.Pow(10, d))
			fill(img, image.Rect(plot.Min.X, y, plot.Max.X, y+1), grey)
			label := msLabel(math.Pow(10, d))
			drawText(img, plot.Min.X-10-textWidth(label, scale), y-7, label, black, scale)
		}
		for _, n := range sizes {
			x := px(float64(n))
			fill(img, image.Rect(x, plot.Min.Y, x+1, plot.Max.Y), grey)
			label := countLabel(n)
			drawText(img, x-textWidth(label, scale)/2, plot.Max.Y+8, label, black, scale)
		}
		fill(img, image.Rect(plot.Min.X, plot.Min.Y, plot.Min.X+2, plot.Max.Y), black)
		fill(img, image.Rect(plot.Min.X, plot.Max.Y-1, plot.Max.X, plot.Max.Y+1), black)
		drawText(img, plot.Min.X+plot.Dx()/2-textWidth("LINE ITEMS", scale)/2, plot.Max.Y+32, "LINE ITEMS", black, scale)
		for _, s := range p.Series {
			prevX, prevY, have := 0, 0, false
			for j, v := range s.Ms {
				if j >= len(sizes) || !(v > 0) {
					have = false
					continue
				}
				x, y := px(float64(sizes[j])), py(v)
				fill(img, image.Rect(x-4, y-4, x+5, y+5), s.Color)
				if have {
					drawLine(img, prevX, prevY, x, y, s.Color)
				}
				prevX, prevY, have = x, y, true
			}
		}
	}
	return png.Encode(w, img)
}

func msLabel(ms float64) string {
	if ms >= 1 {
		return fmt.Sprintf("%.0f", ms)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", ms), "0"), ".")
}

func countLabel(n int) string {
	if n >= 1_000_000 {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e6), ".0") + "M"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e3), ".0") + "K"
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// drawLine draws a 3-pixel-wide line (Bresenham, with a square pen).
func drawLine(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		fill(img, image.Rect(x0-1, y0-1, x0+2, y0+2), c)
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int { return max(v, -v) }

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// glyphs is a 5×7 bitmap font: seven rows of five pixels per character.
var glyphs = map[rune][7]string{
	'A': {"01110", "10001", "10001", "11111", "10001", "10001", "10001"},
	'B': {"11110", "10001", "10001", "11110", "10001", "10001", "11110"},
	'C': {"01110", "10001", "10000", "10000", "10000", "10001", "01110"},
	'D': {"11110", "10001", "10001", "10001", "10001", "10001", "11110"},
	'E': {"11111", "10000", "10000", "11110", "10000", "10000", "11111"},
	'F': {"11111", "10000", "10000", "11110", "10000", "10000", "10000"},
	'G': {"01110", "10001", "10000", "10111", "10001", "10001", "01111"},
	'H': {"10001", "10001", "10001", "11111", "10001", "10001", "10001"},
	'I': {"01110", "00100", "00100", "00100", "00100", "00100", "01110"},
	'J': {"00111", "00010", "00010", "00010", "00010", "10010", "01100"},
	'K': {"10001", "10010", "10100", "11000", "10100", "10010", "10001"},
	'L': {"10000", "10000", "10000", "10000", "10000", "10000", "11111"},
	'M': {"10001", "11011", "10101", "10101", "10001", "10001", "10001"},
	'N': {"10001", "10001", "11001", "10101", "10011", "10001", "10001"},
	'O': {"01110", "10001", "10001", "10001", "10001", "10001", "01110"},
	'P': {"11110", "10001", "10001", "11110", "10000", "10000", "10000"},
	'Q': {"01110", "10001", "10001", "10001", "10101", "10010", "01101"},
	'R': {"11110", "10001", "10001", "11110", "10100", "10010", "10001"},
	'S': {"01111", "10000", "10000", "01110", "00001", "00001", "11110"},
	'T': {"11111", "00100", "00100", "00100", "00100", "00100", "00100"},
	'U': {"10001", "10001", "10001", "10001", "10001", "10001", "01110"},
	'V': {"10001", "10001", "10001", "10001", "10001", "01010", "00100"},
	'W': {"10001", "10001", "10001", "10101", "10101", "10101", "01010"},
	'X': {"10001", "10001", "01010", "00100", "01010", "10001", "10001"},
	'Y': {"10001", "10001", "01010", "00100", "00100", "00100", "00100"},
	'Z': {"11111", "00001", "00010", "00100", "01000", "10000", "11111"},
	'0': {"01110", "10001", "10011", "10101", "11001", "10001", "01110"},
	'1': {"00100", "01100", "00100", "00100", "00100", "00100", "01110"},
	'2': {"01110", "10001", "00001", "00010", "00100", "01000", "11111"},
	'3': {"11111", "00010", "00100", "00010", "00001", "10001", "01110"},
	'4': {"00010", "00110", "01010", "10010", "11111", "00010", "00010"},
	'5': {"11111", "10000", "11110", "00001", "00001", "10001", "01110"},
	'6': {"00110", "01000", "10000", "11110", "10001", "10001", "01110"},
	'7': {"11111", "00001", "00010", "00100", "01000", "01000", "01000"},
	'8': {"01110", "10001", "10001", "01110", "10001", "10001", "01110"},
	'9': {"01110", "10001", "10001", "01111", "00001", "00010", "01100"},
	'.': {"00000", "00000", "00000", "00000", "00000", "01100", "01100"},
	',': {"00000", "00000", "00000", "00000", "01100", "00100", "01000"},
	'-': {"00000", "00000", "00000", "11111", "00000", "00000", "00000"},
	'(': {"00010", "00100", "01000", "01000", "01000", "00100", "00010"},
	')': {"01000", "00100", "00010", "00010", "00010", "00100", "01000"},
	'/': {"00000", "00001", "00010", "00100", "01000", "10000", "00000"},
	':': {"00000", "01100", "01100", "00000", "01100", "01100", "00000"},
	'=': {"00000", "00000", "11111", "00000", "11111", "00000", "00000"},
	'+': {"00000", "00100", "00100", "11111", "00100", "00100", "00000"},
}

// drawText writes s (upper-cased; unknown characters as blanks) with its top
// left corner at x, y, each font pixel drawn as scale×scale.
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA, scale int) {
	for _, r := range strings.ToUpper(s) {
		if g, ok := glyphs[r]; ok {
			for row, bits := range g {
				for col, b := range bits {
					if b == '1' {
						px, py := x+col*scale, y+row*scale
						fill(img, image.Rect(px, py, px+scale, py+scale), c)
					}
				}
			}
		}
		x += 6 * scale
	}
}

func textWidth(s string, scale int) int { return len([]rune(s))*6*scale - scale }
