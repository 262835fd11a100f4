package sandbox

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// DefaultEpoch is the simulated time at which a market starts when Config.Epoch is zero.
var DefaultEpoch = time.Date(2026, time.August, 1, 0, 0, 0, 0, time.UTC)

// MaxKeywords is the number of search keywords the catalog knows.
var MaxKeywords = len(keywordSpecs)

// Config describes a market: everything its catalog and evolution derive from.
type Config struct {
	// Seed makes the catalog and its evolution; the same seed gives the same market.
	Seed uint64
	// Products is the size of the catalog; 0 gives 56-165 products per keyword (about 1,350), of
	// which 48-150 are listed at any time.
	Products int
	// Keywords is how many search keywords the catalog has (1-12); 0 means all 12.
	Keywords int
	// Epoch is the simulated time at which the market starts; zero means DefaultEpoch.
	Epoch time.Time
	// AnomaliesPerDay is how many anomalies are injected per simulated day; 0 means 12, negative none.
	AnomaliesPerDay int
	// Step is the granularity of the market's state in simulated time; 0 means one minute
	// (NewServer picks a longer one for a fast ScaledClock).
	Step time.Duration
}

func (c *Config) setDefaults() {
	if c.Keywords == 0 {
		c.Keywords = len(keywordSpecs)
	}
	if c.Epoch.IsZero() {
		c.Epoch = DefaultEpoch
	}
	c.Epoch = c.Epoch.UTC()
	if c.AnomaliesPerDay == 0 {
		c.AnomaliesPerDay = 12
	}
	if c.AnomaliesPerDay < 0 {
		c.AnomaliesPerDay = 0
	}
	if c.Step == 0 {
		c.Step = time.Minute
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.Keywords < 1 || c.Keywords > len(keywordSpecs) {
		errs = append(errs, fmt.Errorf("keywords: %d: want 1-%d", c.Keywords, len(keywordSpecs)))
	}
	if c.Products < 0 || c.Products > 200_000 {
		errs = append(errs, fmt.Errorf("products: %d: want 0 (default) to 200000", c.Products))
	}
	if c.Products > 0 && c.Products < c.Keywords {
		errs = append(errs, fmt.Errorf("products: %d: want at least one per keyword (%d)", c.Products, c.Keywords))
	}
	if c.AnomaliesPerDay > 10_000 {
		errs = append(errs, fmt.Errorf("anomalies per day: %d: want at most 10000", c.AnomaliesPerDay))
	}
	if c.Step < time.Second || c.Step > time.Hour {
		errs = append(errs, fmt.Errorf("step: %s: want 1s to 1h", c.Step))
	}
	return errors.Join(errs...)
}

// Market is a simulated catalog and its evolution in simulated time. It is safe for concurrent use.
type Market struct {
	cfg      Config
	seed     uint64
	step     int64 // seconds
	products []*product
	byASIN   map[string]*product
	keywords []*keyword
	byName   map[string]*keyword
	brands   [][]string // per category

	anomMu   sync.RWMutex
	anoms    []*anomaly // sorted by time, generated day by day
	anomDays int64      // days [0, anomDays) are generated

	snapMu sync.Mutex
	snaps  map[int64]*snapEntry
	order  []int64 // insertion order of snaps, for eviction
}

// product is the static part of a catalog product.
type product struct {
	idx        int
	asin       string
	title      string
	brand      string
	seller     string
	model      string
	slug       string
	kw         int   // primary keyword
	keywords   []int // matching keywords, primary first
	cat        int
	basePrice  float64 // USD
	listRatio  float64 // list price / base price; 0 = no list price
	baseRating float64
	reviews0   int
	reviewRate float64 // reviews per hour
	sales      float64 // units per month at the base price
	prime      bool
	advertiser bool
	sellers0   int
	image      string
	launch     int64 // seconds since epoch; <= 0: listed from the start
	delist     int64 // seconds since epoch; 0: never
	repriceH   int64 // hours between repricing
	phaseH     int64
	firstAvail time.Time
	anoms      []*anomaly // anomalies of this product, by time
	members    []*membership
	html       productHTML
}

// productHTML are a product's strings as the pages write them, escaped once.
type productHTML struct {
	title        string
	sponsoredAlt string
	cardImage    string
	cardImage2x  string
}

// membership is a product's presence in a keyword's results.
type membership struct {
	p        *product
	kw       int
	affinity float64
	gapFrom  int64 // seconds since epoch; the product is absent from the keyword in [gapFrom, gapTo)
	gapTo    int64
}

// keyword is a search keyword of the catalog.
type keyword struct {
	idx      int
	spec     *keywordSpec
	members  []membership
	pageSize int
}

// NewMarket builds the catalog of cfg.
func NewMarket(cfg Config) (*Market, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("sandbox market config: %w", err)
	}
	m := &Market{
		cfg:    cfg,
		seed:   cfg.Seed,
		step:   int64(cfg.Step / time.Second),
		byASIN: map[string]*product{},
		byName: map[string]*keyword{},
		snaps:  map[int64]*snapEntry{},
	}
	m.buildBrands()
	m.buildCatalog()
	for _, kw := range m.keywords {
		for i := range kw.members {
			mb := &kw.members[i]
			mb.kw = kw.idx
			if kw.idx == mb.p.kw {
				mb.p.members = append([]*membership{mb}, mb.p.members...)
			} else {
				mb.p.members = append(mb.p.members, mb)
			}
		}
	}
	return m, nil
}

// Config returns the market's configuration with defaults applied.
func (m *Market) Config() Config { return m.cfg }

// Epoch returns the simulated time at which the market starts.
func (m *Market) Epoch() time.Time { return m.cfg.Epoch }

// Keywords returns the search keywords of the catalog.
func (m *Market) Keywords() []string {
	out := make([]string, len(m.keywords))
	for i, k := range m.keywords {
		out[i] = k.spec.keyword
	}
	return out
}

// ASINs returns the ASIN of every catalog product, listed or not at any time.
func (m *Market) ASINs() []string {
	out := make([]string, len(m.products))
	for i, p := range m.products {
		out[i] = p.asin
	}
	return out
}

func (m *Market) buildBrands() {
	m.brands = make([][]string, len(categories))
	seen := map[string]bool{}
	for c := range categories {
		for i := 0; len(m.brands[c]) < 14; i++ {
			h := hash3(m.seed, saltBrand, uint64(c), uint64(i), 0)
			n := 2 + pick(h>>3, 2)
			var b strings.Builder
			for j := 0; j < n; j++ {
				b.WriteString(brandSyllables[pick(hash3(m.seed, saltBrand, uint64(c), uint64(i), uint64(j+1)), len(brandSyllables))])
			}
			name := b.String()
			if len(name) < 4 || len(name) > 9 || seen[name] {
				continue
			}
			seen[name] = true
			switch style := pick(h>>20, 10); {
			case style == 0:
				name = strings.ToUpper(name)
			case style == 1:
				// some brands write themselves in lower case
			default:
				name = strings.ToUpper(name[:1]) + name[1:]
			}
			m.brands[c] = append(m.brands[c], name)
		}
	}
}

const asinAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
const imageAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+-"

func (m *Market) newASIN(i int) string {
	for try := uint64(0); ; try++ {
		h := hash3(m.seed, saltASIN, uint64(i), try, 0)
		var b [10]byte
		b[0], b[1] = 'B', '0'
		for j := 2; j < 10; j++ {
			b[j] = asinAlphabet[h%36]
			h /= 36
			if h == 0 {
				h = hash3(m.seed, saltASIN, uint64(i), try, uint64(j))
			}
		}
		s := string(b[:])
		if _, dup := m.byASIN[s]; !dup {
			return s
		}
	}
}

func (m *Market) buildCatalog() {
	nk := m.cfg.Keywords
	counts := make([]int, nk)
	total := 0
	for k := 0; k < nk; k++ {
		counts[k] = 56 + pick(hash3(m.seed, saltCatalog, uint64(k), 0, 0), 110)
		total += counts[k]
	}
	if m.cfg.Products > 0 {
		// Scale to the requested size, at least one product per keyword, exact total.
		want := m.cfg.Products
		scaled := make([]int, nk)
		sum := 0
		for k := range counts {
			scaled[k] = max(1, counts[k]*want/total)
			sum += scaled[k]
		}
		for k := 0; sum != want; k = (k + 1) % nk {
			if sum < want {
				scaled[k]++
				sum++
			} else if scaled[k] > 1 {
				scaled[k]--
				sum--
			}
		}
		counts = scaled
	}
	for k := 0; k < nk; k++ {
		spec := &keywordSpecs[k]
		sizes := []int{16, 24, 32, 48}
		kw := &keyword{idx: k, spec: spec, pageSize: sizes[pick(hash3(m.seed, saltPageSize, uint64(k), 0, 0), len(sizes))]}
		m.keywords = append(m.keywords, kw)
		m.byName[spec.keyword] = kw
		for i := 0; i < counts[k]; i++ {
			p := m.newProduct(len(m.products), k)
			m.products = append(m.products, p)
			m.byASIN[p.asin] = p
			kw.members = append(kw.members, m.newMembership(p, kw, 1))
		}
	}
	// Products of one keyword also match the other keyword of their category, sometimes.
	for _, kw := range m.keywords {
		for _, other := range m.keywords {
			if other == kw || other.spec.category != kw.spec.category {
				continue
			}
			for _, mb := range kw.members {
				p := mb.p
				if p.kw != kw.idx || unit(hash3(m.seed, saltMembership, uint64(p.idx), uint64(other.idx), 1)) >= 0.08 {
					continue
				}
				p.keywords = append(p.keywords, other.idx)
				other.members = append(other.members, m.newMembership(p, other, 0))
			}
		}
	}
}

func (m *Market) newMembership(p *product, kw *keyword, affinity float64) membership {
	mb := membership{p: p, affinity: affinity}
	h := hash3(m.seed, saltMembership, uint64(p.idx), uint64(kw.idx), 0)
	if unit(h) < 0.06 {
		// The product drops out of this keyword's results for a while in the first 30 days.
		from := int64(between(h>>7, 0, 30*24)) * 3600
		dur := int64(between(h>>19, 12, 5*24)) * 3600
		mb.gapFrom, mb.gapTo = from, from+dur
	}
	return mb
}

func (m *Market) newProduct(i, k int) *product {
	spec := &keywordSpecs[k]
	cat := spec.category
	r := func(salt uint64) uint64 { return hash3(m.seed, saltCatalog, uint64(i), salt, 1) }
	p := &product{idx: i, kw: k, keywords: []int{k}, cat: cat}
	p.asin = m.newASIN(i)
	brands := m.brands[cat]
	p.brand = brands[pick(r(1), len(brands))]
	p.title = m.title(p, spec, r)
	p.slug = slugOf(p.title)
	p.model = fmt.Sprintf("%c%d%c", 'A'+rune(pick(r(2), 26)), 1000+pick(r(3), 9000), 'A'+rune(pick(r(4), 26)))
	if unit(r(5)) < 0.55 {
		p.seller = "Amazon.com"
	} else {
		p.seller = p.brand + []string{" Direct", " Official", " Store", "-US"}[pick(r(6), 4)]
	}
	// Log-uniform price within the keyword's range.
	p.basePrice = spec.minPrice * math.Pow(spec.maxPrice/spec.minPrice, unit(r(7)))
	if unit(r(8)) < 0.45 {
		p.listRatio = between(r(9), 1.08, 1.45)
	}
	// Sales per month: log-uniform 5..40000, cheaper products sell a little more.
	p.sales = 5 * math.Pow(8000, unit(r(10))) * math.Pow(spec.minPrice*2/p.basePrice, 0.3)
	p.baseRating = math.Min(4.9, 3.2+1.7*math.Sqrt(unit(r(11))))
	p.reviewRate = p.sales * between(r(12), 0.005, 0.03) / (30 * 24)
	p.prime = unit(r(13)) < 0.75
	p.advertiser = unit(r(14)) < 0.3
	p.sellers0 = 1 + int(math.Floor(12*math.Pow(unit(r(15)), 2.5)))
	ageMonths := between(r(16), 1, 72)
	p.firstAvail = m.cfg.Epoch.Add(-time.Duration(ageMonths * 30 * 24 * float64(time.Hour))).Truncate(24 * time.Hour)
	switch u := unit(r(17)); {
	case u < 0.10:
		// Launched during the first 30 days: no reviews yet.
		p.launch = int64(between(r(18), 1, 30*24)) * 3600
		p.firstAvail = m.cfg.Epoch.Add(time.Duration(p.launch) * time.Second).Truncate(24 * time.Hour)
	default:
		p.reviews0 = int(p.sales * ageMonths * between(r(19), 0.003, 0.03))
	}
	if unit(r(20)) < 0.06 {
		p.delist = int64(between(r(21), 24, 60*24)) * 3600
		if p.delist <= p.launch {
			p.delist = p.launch + 7*24*3600
		}
	}
	p.repriceH = []int64{2, 4, 6, 12, 24}[pick(r(22), 5)]
	p.phaseH = int64(pick(r(23), int(p.repriceH)))
	var img [11]byte
	img[0] = "5678"[pick(r(24), 4)]
	img[1] = '1'
	h := r(25)
	for j := 2; j < 10; j++ {
		img[j] = imageAlphabet[h&63]
		h >>= 6
	}
	img[10] = 'L'
	p.image = string(img[:])
	p.html = productHTML{
		title:        escapeHTML(p.title),
		sponsoredAlt: escapeHTML("Sponsored Ad - " + p.title),
		cardImage:    escapeHTML(imageURL(p.image, cardImageSize)),
		cardImage2x:  escapeHTML(imageURL(p.image, "UY436")),
	}
	return p
}

func (m *Market) title(p *product, spec *keywordSpec, r func(uint64) uint64) string {
	head := spec.heads[pick(r(30), len(spec.heads))]
	if strings.Contains(head, "{n}") {
		head = strings.Replace(head, "{n}", spec.numbers[pick(r(31), len(spec.numbers))], 1)
	}
	f1 := spec.features[pick(r(32), len(spec.features))]
	tail := spec.tails[pick(r(33), len(spec.tails))]
	use := spec.uses[pick(r(34), len(spec.uses))]
	color := colors[pick(r(35), len(colors))]
	switch pick(r(36), 3) {
	case 0:
		return fmt.Sprintf("%s %s, %s %s for %s (%s)", p.brand, head, f1, tail, use, color)
	case 1:
		f2 := spec.features[pick(r(37), len(spec.features))]
		if f2 == f1 {
			return fmt.Sprintf("%s %s with %s, %s for %s", p.brand, head, f1, tail, use)
		}
		return fmt.Sprintf("%s %s | %s, %s %s for %s - %s", p.brand, head, f1, f2, tail, use, color)
	default:
		return fmt.Sprintf("%s %s %s with %s, Compatible with %s", p.brand, head, tail, f1, use)
	}
}

// slugOf makes the URL slug Amazon puts before /dp/: the first words of the title, hyphenated.
func slugOf(title string) string {
	var words []string
	for _, w := range strings.FieldsFunc(title, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		words = append(words, w)
		if len(words) == 6 {
			break
		}
	}
	return strings.Join(words, "-")
}

// keywordByName finds a keyword by its normalized text.
func (m *Market) keywordByName(k string) *keyword {
	return m.byName[NormalizeKeyword(k)]
}

// NormalizeKeyword lowercases a search keyword and collapses its spaces, as the catalog keys it.
func NormalizeKeyword(k string) string {
	return strings.Join(strings.Fields(strings.ToLower(k)), " ")
}
