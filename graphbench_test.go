package livebind

// graphBench has one dependency with 10 dependants and 5 conditional
// fields, for BenchmarkGenerationGraph.
type graphBench struct {
	Mode string `live:"env=GB_MODE; poll=1h"`
	Base int    `live:"env=GB_BASE; poll=1h"`
	D0   int    `live:"env=GB_D0; poll=1h; default=0; depends_on=Base; update=SetD0"`
	D1   int    `live:"env=GB_D1; poll=1h; default=1; depends_on=Base; update=SetD1"`
	D2   int    `live:"env=GB_D2; poll=1h; default=2; depends_on=Base; update=SetD2"`
	D3   int    `live:"env=GB_D3; poll=1h; default=3; depends_on=Base; update=SetD3"`
	D4   int    `live:"env=GB_D4; poll=1h; default=4; depends_on=Base; update=SetD4"`
	D5   int    `live:"env=GB_D5; poll=1h; default=5; depends_on=Base; update=SetD5"`
	D6   int    `live:"env=GB_D6; poll=1h; default=6; depends_on=Base; update=SetD6"`
	D7   int    `live:"env=GB_D7; poll=1h; default=7; depends_on=Base; update=SetD7"`
	D8   int    `live:"env=GB_D8; poll=1h; default=8; depends_on=Base; update=SetD8"`
	D9   int    `live:"env=GB_D9; poll=1h; default=9; depends_on=Base; update=SetD9"`
	C0   int    `live:"env=GB_C0; poll=1h; default=0; when=Mode == \"on\" && Base >= 0"`
	C1   int    `live:"env=GB_C1; poll=1h; default=1; when=Mode == \"on\" && Base >= 0"`
	C2   int    `live:"env=GB_C2; poll=1h; default=2; when=Mode == \"on\" && Base >= 0"`
	C3   int    `live:"env=GB_C3; poll=1h; default=3; when=Mode == \"on\" && Base >= 0"`
	C4   int    `live:"env=GB_C4; poll=1h; default=4; when=Mode == \"on\" && Base >= 0"`
}

// SetD0 derives D0 from its source and Base.
func (g *graphBench) SetD0(v int) error { g.D0 = v + g.Base; return nil }

// SetD1 derives D1 from its source and Base.
func (g *graphBench) SetD1(v int) error { g.D1 = v + g.Base; return nil }

// SetD2 derives D2 from its source and Base.
func (g *graphBench) SetD2(v int) error { g.D2 = v + g.Base; return nil }

// SetD3 derives D3 from its source and Base.
func (g *graphBench) SetD3(v int) error { g.D3 = v + g.Base; return nil }

// SetD4 derives D4 from its source and Base.
func (g *graphBench) SetD4(v int) error { g.D4 = v + g.Base; return nil }

// SetD5 derives D5 from its source and Base.
func (g *graphBench) SetD5(v int) error { g.D5 = v + g.Base; return nil }

// SetD6 derives D6 from its source and Base.
func (g *graphBench) SetD6(v int) error { g.D6 = v + g.Base; return nil }

// SetD7 derives D7 from its source and Base.
func (g *graphBench) SetD7(v int) error { g.D7 = v + g.Base; return nil }

// SetD8 derives D8 from its source and Base.
func (g *graphBench) SetD8(v int) error { g.D8 = v + g.Base; return nil }

// SetD9 derives D9 from its source and Base.
func (g *graphBench) SetD9(v int) error { g.D9 = v + g.Base; return nil }
