package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
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

// The chart's faces: the Go fonts (a sans-serif TrueType family shipped as Go
// source by golang.org/x/image), so that the picture reads the same wherever
// it is drawn, with no font installed on the machine.
type faces struct{ title, label, small font.Face }

var (
	facesOnce sync.Once
	chartFont faces
	facesErr  error
)

func loadFaces() (faces, error) {
	facesOnce.Do(func() {
		regular, err := opentype.Parse(goregular.TTF)
		if err != nil {
			facesErr = err
			return
		}
		bold, err := opentype.Parse(gobold.TTF)
		if err != nil {
			facesErr = err
			return
		}
		face := func(f *opentype.Font, size float64) font.Face {
			if facesErr != nil {
				return nil
			}
			var fc font.Face
			fc, facesErr = opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
			return fc
		}
		chartFont = faces{title: face(bold, 22), label: face(bold, 17), small: face(regular, 15)}
	})
	return chartFont, facesErr
}

// WriteChart draws panels in a grid of two columns, all with log-scaled axes
// sharing one y range, and a legend, as a PNG.
func WriteChart(w io.Writer, title string, sizes []int, panels []Panel) error {
	fc, err := loadFaces()
	if err != nil {
		return fmt.Errorf("chart font: %w", err)
	}
	const (
		cols, panelW, panelH = 2, 600, 400
		top                  = 90
	)
	rowsN := (len(panels) + cols - 1) / cols
	img := image.NewRGBA(image.Rect(0, 0, cols*panelW, top+rowsN*panelH))
	fill(img, img.Bounds(), color.RGBA{255, 255, 255, 255})
	black := color.RGBA{0, 0, 0, 255}
	dark := color.RGBA{60, 60, 60, 255}
	drawText(img, fc.title, 20, 14, title, black)

	// Legend from the first panel's series.
	if len(panels) > 0 {
		x := 20
		for _, s := range panels[0].Series {
			fill(img, image.Rect(x, 55, x+30, 60), s.Color)
			drawText(img, fc.small, x+38, 48, s.Name, black)
			x += 38 + textWidth(fc.small, s.Name) + 30
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

	grey := color.RGBA{225, 225, 225, 255}
	for i, p := range panels {
		ox, oy := (i%cols)*panelW, top+(i/cols)*panelH
		plot := image.Rect(ox+100, oy+40, ox+panelW-30, oy+panelH-60)
		px := func(n float64) float64 {
			return float64(plot.Min.X) + (math.Log10(n)-xlo)/(xhi-xlo)*float64(plot.Dx())
		}
		py := func(ms float64) float64 {
			return float64(plot.Max.Y) - (math.Log10(ms)-ylo)/(yhi-ylo)*float64(plot.Dy())
		}
		drawText(img, fc.label, ox+20, oy+10, p.Title, black)
		for d := ylo; d <= yhi; d++ {
			y := int(math.Round(py(math.Pow(10, d))))
			fill(img, image.Rect(plot.Min.X, y, plot.Max.X, y+1), grey)
			label := msLabel(math.Pow(10, d))
			drawText(img, fc.small, plot.Min.X-10-textWidth(fc.small, label), y-9, label, dark)
		}
		for _, n := range sizes {
			x := int(math.Round(px(float64(n))))
			fill(img, image.Rect(x, plot.Min.Y, x+1, plot.Max.Y), grey)
			label := countLabel(n)
			drawText(img, fc.small, x-textWidth(fc.small, label)/2, plot.Max.Y+8, label, dark)
		}
		fill(img, image.Rect(plot.Min.X, plot.Min.Y, plot.Min.X+2, plot.Max.Y), black)
		fill(img, image.Rect(plot.Min.X, plot.Max.Y-1, plot.Max.X, plot.Max.Y+1), black)
		const axis = "line items"
		drawText(img, fc.small, plot.Min.X+plot.Dx()/2-textWidth(fc.small, axis)/2, plot.Max.Y+30, axis, dark)
		for _, s := range p.Series {
			var prevX, prevY float64
			have := false
			for j, v := range s.Ms {
				if j >= len(sizes) || !(v > 0) {
					have = false
					continue
				}
				x, y := px(float64(sizes[j])), py(v)
				if have {
					drawLine(img, prevX, prevY, x, y, 3, s.Color)
				}
				xi, yi := int(math.Round(x)), int(math.Round(y))
				fill(img, image.Rect(xi-4, yi-4, xi+5, yi+5), s.Color)
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
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e6), ".0") + " M"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e3), ".0") + " k"
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r.Intersect(img.Bounds()), image.NewUniform(c), image.Point{}, draw.Src)
}

// drawLine draws an anti-aliased line of the given width as a filled
// quadrilateral.
func drawLine(img *image.RGBA, x0, y0, x1, y1, width float64, c color.RGBA) {
	dx, dy := x1-x0, y1-y0
	l := math.Hypot(dx, dy)
	if l == 0 {
		return
	}
	nx, ny := -dy/l*width/2, dx/l*width/2 // half the width, across the line
	// The rasterizer covers only the line's bounding box.
	r := image.Rect(int(math.Floor(min(x0, x1)-width)), int(math.Floor(min(y0, y1)-width)),
		int(math.Ceil(max(x0, x1)+width)), int(math.Ceil(max(y0, y1)+width))).Intersect(img.Bounds())
	if r.Empty() {
		return
	}
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	z := vector.NewRasterizer(r.Dx(), r.Dy())
	z.MoveTo(float32(x0+nx-ox), float32(y0+ny-oy))
	z.LineTo(float32(x1+nx-ox), float32(y1+ny-oy))
	z.LineTo(float32(x1-nx-ox), float32(y1-ny-oy))
	z.LineTo(float32(x0-nx-ox), float32(y0-ny-oy))
	z.ClosePath()
	z.Draw(img, r, image.NewUniform(c), image.Point{})
}

// drawText writes s with its top left corner at x, y.
func drawText(img *image.RGBA, face font.Face, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face,
		Dot: fixed.Point26_6{X: fixed.I(x), Y: fixed.I(y) + face.Metrics().Ascent}}
	d.DrawString(s)
}

func textWidth(face font.Face, s string) int { return font.MeasureString(face, s).Ceil() }
