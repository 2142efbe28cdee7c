package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Colours and dashes, chosen to stay distinct in print and for common
// colour-vision deficiencies (Okabe–Ito palette).
var (
	colBlack  = color.RGBA{A: 255}
	colGrey   = color.RGBA{R: 120, G: 120, B: 120, A: 255}
	colOrange = color.RGBA{R: 230, G: 159, A: 255}
	colSky    = color.RGBA{R: 86, G: 180, B: 233, A: 255}
	colGreen  = color.RGBA{G: 158, B: 115, A: 255}
	colBlue   = color.RGBA{G: 114, B: 178, A: 255}
	colVerm   = color.RGBA{R: 213, G: 94, A: 255}
	colPurple = color.RGBA{R: 204, G: 121, B: 167, A: 255}
)

// schemeColor is the colour of an evaluation scheme in accuracy plots.
var schemeColor = map[string]color.Color{
	"euler":       colVerm,
	"midpoint":    colGreen,
	"rk4-classic": colBlue,
	"rk4-38":      colOrange,
	"true":        colBlack,
}

// schemeDash is the dash pattern of an evaluation scheme.
var schemeDash = map[string][]vg.Length{
	"euler":       nil,
	"midpoint":    {vg.Points(6), vg.Points(3)},
	"rk4-classic": {vg.Points(2), vg.Points(2)},
	"rk4-38":      {vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)},
}

// schemeGlyph is the marker shape of a scheme.
var schemeGlyph = map[string]draw.GlyphDrawer{
	"euler":       draw.CircleGlyph{},
	"midpoint":    draw.SquareGlyph{},
	"rk4-classic": draw.TriangleGlyph{},
	"rk4-38":      draw.CrossGlyph{},
	"true":        draw.PlusGlyph{},
}

// curve is one line of a plot.
type curve struct {
	label  string
	xs, ys []float64
	color  color.Color
	dashes []vg.Length
	glyph  draw.GlyphDrawer // nil: no markers
	width  vg.Length
	// lo and hi, when set (same length as ys), draw a translucent band
	// under the line: the min–max range over seeds of a mean curve.
	lo, hi []float64
}

// addCurves adds the curves, with legend entries, to p, plotting log10 of
// the coordinates of log axes. Points that are not finite (or not positive on
// a log axis) are dropped.
func addCurves(p *plot.Plot, logX, logY bool, cs []curve) error {
	for _, c := range cs {
		var pts plotter.XYs
		for i := range c.xs {
			x, y := c.xs[i], c.ys[i]
			if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) || (logX && x <= 0) || (logY && y <= 0) {
				continue
			}
			if logX {
				x = math.Log10(x)
			}
			if logY {
				y = math.Log10(y)
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
		if len(pts) == 0 {
			continue
		}
		if err := addBand(p, logX, logY, c); err != nil {
			return err
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("curve %q: %w", c.label, err)
		}
		l.Color = c.color
		l.Dashes = c.dashes
		l.Width = c.width
		if l.Width == 0 {
			l.Width = vg.Points(1.5)
		}
		thumbs := []plot.Thumbnailer{l}
		p.Add(l)
		if c.glyph != nil {
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return fmt.Errorf("curve %q: %w", c.label, err)
			}
			s.GlyphStyle = draw.GlyphStyle{Color: c.color, Radius: vg.Points(2.5), Shape: c.glyph}
			p.Add(s)
			thumbs = append(thumbs, s)
		}
		if c.label != "" {
			p.Legend.Add(c.label, thumbs...)
		}
	}
	return nil
}

// addBand draws the polygon between c.lo and c.hi (points where either is
// not finite are left out) in c's colour at 20 % opacity.
func addBand(p *plot.Plot, logX, logY bool, c curve) error {
	if len(c.lo) != len(c.xs) || len(c.hi) != len(c.xs) {
		return nil
	}
	tr := func(v float64, log bool) float64 {
		if log {
			return math.Log10(v)
		}
		return v
	}
	var upper, lower plotter.XYs
	for i, x := range c.xs {
		lo, hi := c.lo[i], c.hi[i]
		if math.IsNaN(lo+hi+x) || math.IsInf(lo+hi+x, 0) || (logX && x <= 0) || (logY && lo <= 0) {
			continue
		}
		upper = append(upper, plotter.XY{X: tr(x, logX), Y: tr(hi, logY)})
		lower = append(lower, plotter.XY{X: tr(x, logX), Y: tr(lo, logY)})
	}
	if len(upper) < 2 {
		return nil
	}
	for i := len(lower) - 1; i >= 0; i-- {
		upper = append(upper, lower[i])
	}
	poly, err := plotter.NewPolygon(upper)
	if err != nil {
		return fmt.Errorf("band of %q: %w", c.label, err)
	}
	r, g, b, _ := c.color.RGBA()
	poly.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 51}
	poly.LineStyle.Width = 0
	p.Add(poly)
	return nil
}

// vline adds a vertical dashed line at x over [y0, y1], with a legend entry
// when label is not empty. A nil col means grey.
func vline(p *plot.Plot, x, y0, y1 float64, col color.Color, label string) (*plotter.Line, error) {
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: y0}, {X: x, Y: y1}})
	if err != nil {
		return nil, err
	}
	l.Color = col
	if col == nil {
		l.Color = colGrey
	}
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	l.Width = vg.Points(1)
	p.Add(l)
	if label != "" {
		p.Legend.Add(label, l)
	}
	return l, nil
}

// newPlot returns a plot with a title, axis labels and a grid. A log axis
// expects log10 of the data (addCurves transforms it) and labels its ticks
// with the untransformed values.
func newPlot(title, xlabel, ylabel string, logX, logY bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	if logX {
		p.X.Tick.Marker = logTicks{}
	}
	if logY {
		p.Y.Tick.Marker = logTicks{}
	}
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 225}
	g.Horizontal.Color = color.Gray{Y: 225}
	p.Add(g)
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	return p
}

// renderGrid draws a rows×cols grid of plots (nil cells stay empty) as PNG
// and SVG. With legendW > 0 each panel's legend is drawn in a strip of that
// width to the right of the panel instead of over its data. A non-nil head
// is one legend for the whole figure, of up to four entries, drawn above the
// grid.
func renderGrid(plots [][]*plot.Plot, w, h, legendW vg.Length, head *plot.Legend) (png, svg []byte, err error) {
	out := make([][]byte, 2)
	for i, format := range []string{"png", "svg"} {
		c, err := draw.NewFormattedCanvas(w, h, format)
		if err != nil {
			return nil, nil, err
		}
		dc := draw.New(c)
		if head != nil {
			top := 0.7 * vg.Inch // room for a few entries
			head.Top, head.Left = true, true
			head.Draw(draw.Crop(dc, vg.Millimeter*15, 0, 0, -vg.Millimeter*2))
			dc = draw.Crop(dc, 0, 0, 0, -top)
		}
		drawGrid(dc, plots, legendW)
		var b bytes.Buffer
		if _, err := c.WriteTo(&b); err != nil {
			return nil, nil, err
		}
		out[i] = b.Bytes()
	}
	return out[0], out[1], nil
}

func drawGrid(dc draw.Canvas, plots [][]*plot.Plot, legendW vg.Length) {
	rows, cols := len(plots), len(plots[0])
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	if legendW == 0 {
		canvases := plot.Align(plots, tiles, dc)
		for r := range rows {
			for k := range cols {
				if plots[r][k] != nil {
					plots[r][k].Draw(canvases[r][k])
				}
			}
		}
		return
	}
	for r := range rows {
		for k := range cols {
			p := plots[r][k]
			if p == nil {
				continue
			}
			tile := tiles.At(dc, k, r)
			leg := p.Legend
			p.Legend = plot.NewLegend()
			p.Draw(draw.Crop(tile, 0, -legendW, 0, 0))
			p.Legend = leg
			// The legend strip, its top level with the plot's data area.
			strip := draw.Crop(tile, tile.Max.X-tile.Min.X-legendW+vg.Millimeter*3, 0, 0, -(p.Title.TextStyle.Height(p.Title.Text) + p.Title.Padding))
			leg.Top, leg.Left = true, true
			leg.Draw(strip)
		}
	}
}

// logTicks labels a log10-transformed axis: a value v on the axis stands
// for 10^v. Powers of ten get labels ("0.01", "1", "100", "1e-06"), 2…9
// times them unlabelled ticks. Plotting log10 of the data on a linear axis,
// rather than using plot.LogScale, keeps gonum's axis-label layout right
// (it centres labels at the linear midpoint of a log axis and pads the plot
// for the overhang) and avoids LogTicks' rounding noise such as
// 0.09999999999999999.
// countTicks labels the major ticks of an axis that counts (SGD steps, Nt)
// without decimals: plot.DefaultTicks writes 250 as "250.00".
type countTicks struct{}

func (countTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}

type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		return nil
	}
	var ts []plot.Tick
	for e := int(math.Floor(min)); e <= int(math.Ceil(max)); e++ {
		for m := 1; m <= 9; m++ {
			v := float64(e) + math.Log10(float64(m))
			if v < min-1e-12 || v > max+1e-12 {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 {
				t.Label = logLabel(e)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

func logLabel(e int) string {
	if e >= -3 && e <= 4 {
		return strconv.FormatFloat(math.Pow10(e), 'f', -1, 64)
	}
	return fmt.Sprintf("1e%d", e)
}

// figure writes name.png and name.svg of a grid of plots into dir; see
// renderGrid for legendW.
func (w *writer) figure(dir, name string, plots [][]*plot.Plot, width, height, legendW vg.Length, head *plot.Legend) {
	if w.err != nil {
		return
	}
	png, svg, err := renderGrid(plots, width, height, legendW, head)
	if err != nil {
		w.err = fmt.Errorf("report: figure %s: %w", name, err)
		return
	}
	w.file(filepath.Join(dir, name+".png"), png)
	w.file(filepath.Join(dir, name+".svg"), svg)
}

// percentAxis fixes an accuracy axis to [0, 100] % with ticks every 10.
func percentAxis(a *plot.Axis) {
	a.Min, a.Max = 0, 100
	var ts []plot.Tick
	for v := 0; v <= 100; v += 5 {
		t := plot.Tick{Value: float64(v)}
		if v%10 == 0 {
			t.Label = strconv.Itoa(v)
		}
		ts = append(ts, t)
	}
	a.Tick.Marker = plot.ConstantTicks(ts)
}
