package sandbox

// keywordSpec describes a search keyword of the simulated catalog: where its products sit in the
// category tree, their price range, and the pieces their titles are made of.
type keywordSpec struct {
	keyword  string
	category int // index into categories
	mid      string
	sub      string
	subNode  int64
	minPrice float64 // USD
	maxPrice float64 // USD
	heads    []string
	numbers  []string // fill "{n}" in heads
	features []string
	tails    []string
	uses     []string
}

// categorySpec is a top-level category with its best-sellers slug and browse node.
type categorySpec struct {
	name string
	slug string
	node int64
	// detailBullets: product pages of this category show details as bullets
	// (#detailBulletsWrapper_feature_div) rather than tables (#prodDetails).
	detailBullets bool
}

var categories = []categorySpec{
	{name: "Cell Phones & Accessories", slug: "wireless", node: 2335752011},
	{name: "Electronics", slug: "electronics", node: 172282},
	{name: "Home & Kitchen", slug: "home-garden", node: 1055398, detailBullets: true},
	{name: "Sports & Outdoors", slug: "sporting-goods", node: 3375251, detailBullets: true},
	{name: "Tools & Home Improvement", slug: "hi", node: 228013},
	{name: "Beauty & Personal Care", slug: "beauty", node: 3760911, detailBullets: true},
}

// keywordSpecs are ordered so that the first six cover the six categories once.
var keywordSpecs = []keywordSpec{
	{
		keyword: "portable charger", category: 0, mid: "Chargers & Power Adapters", sub: "Cell Phone Portable Power Banks", subNode: 7073960011,
		minPrice: 12, maxPrice: 90,
		heads:    []string{"{n}mAh Portable Charger", "Portable Charger {n}mAh", "Power Bank {n}mAh", "Slim Portable Charger", "Magnetic Portable Charger", "Mini Portable Charger"},
		numbers:  []string{"5000", "10000", "10,000", "20000", "26800", "27650", "40000"},
		features: []string{"22.5W Fast Charging", "USB C PD 45W", "LED Display", "Built-in Cables & AC Wall Plug", "Dual USB Outputs", "15W Wireless Charging"},
		tails:    []string{"Power Bank", "Battery Pack", "External Battery", "Phone Charger"},
		uses:     []string{"iPhone 17/16/15, Samsung, Android", "iPhone, iPad & More", "Travel, Camping & Emergency", "Samsung Galaxy, Pixel"},
	},
	{
		keyword: "wireless earbuds", category: 1, mid: "Headphones, Earbuds & Accessories", sub: "Earbud & In-Ear Headphones", subNode: 12097478011,
		minPrice: 15, maxPrice: 280,
		heads:    []string{"Wireless Earbuds", "Bluetooth {n} Wireless Earbuds", "True Wireless Earbuds", "Noise Cancelling Wireless Earbuds", "Open-Ear Wireless Earbuds"},
		numbers:  []string{"5.3", "5.4", "6.0"},
		features: []string{"Active Noise Cancellation", "60H Playtime", "IPX7 Waterproof", "Deep Bass & ENC Mic", "Wireless Charging Case", "Hi-Res Audio"},
		tails:    []string{"Headphones", "Earphones", "in-Ear Buds", "Sport Earbuds"},
		uses:     []string{"iPhone & Android", "Workout & Running", "Gaming, Calls & Music", "Sleep & Travel"},
	},
	{
		keyword: "air fryer", category: 2, mid: "Kitchen & Dining", sub: "Air Fryers", subNode: 2238000011,
		minPrice: 40, maxPrice: 320,
		heads:    []string{"Air Fryer {n} QT", "{n} Quart Air Fryer", "Dual Basket Air Fryer {n} QT", "Air Fryer Oven {n} QT", "Compact Air Fryer"},
		numbers:  []string{"4", "5", "6", "8", "10"},
		features: []string{"1700W with Viewing Window", "Nonstick & Dishwasher-Safe Basket", "8-in-1 Presets", "Rapid Air Circulation", "Shake Reminder & Touch Control"},
		tails:    []string{"Oilless Cooker", "Roaster & Dehydrator", "Countertop Oven", "Air Fryer"},
		uses:     []string{"Family Meals", "Quick & Easy Cooking", "Small Kitchens", "Roasting, Baking & Reheating"},
	},
	{
		keyword: "yoga mat", category: 3, mid: "Exercise & Fitness", sub: "Yoga Mats", subNode: 3422251,
		minPrice: 14, maxPrice: 110,
		heads:    []string{"Yoga Mat {n}mm", "Non Slip Yoga Mat", "Extra Thick Yoga Mat {n}mm", "TPE Yoga Mat", "Natural Rubber Yoga Mat"},
		numbers:  []string{"4", "6", "8", "10", "15"},
		features: []string{"Eco Friendly & Non-Toxic", "Alignment Lines", "Double-Sided Non Slip", "Carrying Strap & Bag", "High Density Cushioning"},
		tails:    []string{"Exercise Mat", "Workout Mat", "Fitness Mat", "Pilates Mat"},
		uses:     []string{"Home Workout, Pilates & Floor Exercises", "Women & Men", "Hot Yoga", "Gym & Stretching"},
	},
	{
		keyword: "led strip lights", category: 4, mid: "Lighting & Ceiling Fans", sub: "LED Strip Lights", subNode: 2314207011,
		minPrice: 9, maxPrice: 75,
		heads:    []string{"LED Strip Lights {n}ft", "Smart LED Strip Lights {n}ft", "RGB LED Strip Lights", "LED Lights for Bedroom {n}ft", "TV LED Backlight"},
		numbers:  []string{"16.4", "32.8", "50", "65.6", "100", "130"},
		features: []string{"Music Sync & App Control", "Works with Alexa & Google Home", "Color Changing with Remote", "Cuttable & Self-Adhesive", "WiFi Smart Control"},
		tails:    []string{"Light Strip", "Rope Lights", "Tape Lights", "Light Kit"},
		uses:     []string{"Bedroom, Kitchen & Party", "Room Decoration", "TV & Gaming Setup", "Home & Holiday"},
	},
	{
		keyword: "electric toothbrush", category: 5, mid: "Oral Care", sub: "Electric Toothbrushes", subNode: 3736231,
		minPrice: 18, maxPrice: 260,
		heads:    []string{"Electric Toothbrush", "Sonic Electric Toothbrush", "Rechargeable Electric Toothbrush", "Electric Toothbrush with {n} Brush Heads", "Kids Electric Toothbrush"},
		numbers:  []string{"4", "6", "8", "10"},
		features: []string{"5 Modes & Smart Timer", "40000 VPM Deep Clean", "Pressure Sensor", "4 Hour Fast Charge Lasts 60 Days", "Travel Case Included"},
		tails:    []string{"Toothbrush", "Power Toothbrush", "Sonic Toothbrush", "Whitening Toothbrush"},
		uses:     []string{"Adults & Kids", "Sensitive Teeth & Gums", "Travel & Home", "Men & Women"},
	},
	{
		keyword: "usb c cable", category: 0, mid: "Cables", sub: "Cell Phone Cables", subNode: 2407760011,
		minPrice: 5, maxPrice: 30,
		heads:    []string{"USB C Cable {n}ft", "USB C to USB C Cable", "USB C Charger Cable {n}-Pack", "Braided USB C Cable {n}ft", "240W USB C Cable"},
		numbers:  []string{"3", "6", "6.6", "10", "2"},
		features: []string{"100W PD Fast Charging", "Nylon Braided", "USB 3.2 Gen 2 10Gbps", "Right Angle & Durable", "E-Marker Chip"},
		tails:    []string{"Charging Cord", "Charger Cable", "Type C Cable", "Data Cable"},
		uses:     []string{"iPhone 17/16/15, MacBook & iPad", "Samsung Galaxy S25, Pixel", "Laptops & Tablets", "Android Auto & CarPlay"},
	},
	{
		keyword: "bluetooth speaker", category: 1, mid: "Portable Audio & Video", sub: "Portable Bluetooth Speakers", subNode: 7073956011,
		minPrice: 20, maxPrice: 400,
		heads:    []string{"Bluetooth Speaker", "Portable Bluetooth Speaker {n}W", "Waterproof Bluetooth Speaker", "Outdoor Bluetooth Speaker {n}W", "Mini Bluetooth Speaker"},
		numbers:  []string{"10", "20", "30", "40", "80", "120"},
		features: []string{"IPX7 Waterproof", "Loud Stereo Sound & Deep Bass", "24H Playtime", "Party Lights", "TWS Pairing & Built-in Mic"},
		tails:    []string{"Wireless Speaker", "Portable Speaker", "Speaker", "Party Speaker"},
		uses:     []string{"Home, Outdoor & Travel", "Beach, Shower & Pool", "Camping & Hiking", "Parties"},
	},
	{
		keyword: "coffee grinder", category: 2, mid: "Kitchen & Dining", sub: "Burr Coffee Grinders", subNode: 289748,
		minPrice: 18, maxPrice: 350,
		heads:    []string{"Electric Coffee Grinder", "Burr Coffee Grinder", "Conical Burr Coffee Grinder with {n} Settings", "Manual Coffee Grinder", "Coffee & Spice Grinder"},
		numbers:  []string{"18", "31", "40", "48"},
		features: []string{"Stainless Steel Blades", "Adjustable Grind Size", "Removable Bowl", "One Touch & Quiet", "Anti-Static Design"},
		tails:    []string{"Coffee Mill", "Grinder", "Bean Grinder", "Espresso Grinder"},
		uses:     []string{"Espresso, Drip & French Press", "Home & Office", "Pour Over", "Beans, Spices & Nuts"},
	},
	{
		keyword: "water bottle", category: 3, mid: "Accessories", sub: "Sports Water Bottles", subNode: 3410851,
		minPrice: 9, maxPrice: 55,
		heads:    []string{"Insulated Water Bottle {n} oz", "Water Bottle with Straw {n} oz", "Stainless Steel Water Bottle", "Sports Water Bottle {n} oz", "Motivational Water Bottle"},
		numbers:  []string{"20", "24", "32", "40", "64"},
		features: []string{"Leak Proof & BPA Free", "Keeps Cold 24 Hours", "Double Wall Vacuum", "Time Marker", "Wide Mouth & Handle"},
		tails:    []string{"Water Bottle", "Tumbler", "Flask", "Drink Bottle"},
		uses:     []string{"Gym, Sports & Outdoor", "School & Office", "Hiking & Camping", "Kids & Adults"},
	},
	{
		keyword: "cordless drill", category: 4, mid: "Power & Hand Tools", sub: "Power Drills", subNode: 552740,
		minPrice: 30, maxPrice: 420,
		heads:    []string{"Cordless Drill {n}V", "{n}V Cordless Drill Driver Kit", "Brushless Cordless Drill", "Cordless Drill Set", "Compact Drill/Driver {n}V"},
		numbers:  []string{"12", "20", "21", "18"},
		features: []string{"2 Batteries & Charger", "Brushless Motor 450 In-lbs Torque", "25+1 Clutch & 2-Speed", "LED Work Light", "3/8\" Keyless Chuck"},
		tails:    []string{"Power Drill", "Drill Kit", "Drill Driver", "Electric Screwdriver"},
		uses:     []string{"Home Improvement & DIY", "Woodworking", "Professionals", "Home & Garden"},
	},
	{
		keyword: "hair dryer", category: 5, mid: "Hair Care", sub: "Hair Dryers", subNode: 3784291,
		minPrice: 16, maxPrice: 520,
		heads:    []string{"Hair Dryer", "Ionic Hair Dryer {n}W", "Hair Dryer with Diffuser", "Travel Hair Dryer", "High-Speed Hair Dryer"},
		numbers:  []string{"1875", "1600", "2000", "1200"},
		features: []string{"Negative Ionic Technology", "3 Heat & 2 Speed Settings", "Fast Drying & Low Noise", "Concentrator & Diffuser Included", "Constant Temperature Control"},
		tails:    []string{"Blow Dryer", "Hair Dryer", "Blowdryer", "Styling Tool"},
		uses:     []string{"Women & Men", "Curly Hair", "Travel & Home", "All Hair Types"},
	},
}

var colors = []string{"Black", "White", "Blue", "Gray", "Pink", "Green", "Silver", "Red", "Navy", "Beige", "Purple"}

// brandSyllables build the invented brand names of the catalog.
var brandSyllables = []string{"vo", "ltr", "ix", "an", "ker", "mi", "ady", "zo", "lo", "ni", "ko", "tar", "ra", "fi", "zen", "qu", "ell", "or", "ba", "so", "nic", "tro", "lux", "ve", "gen", "pa", "ru", "mo", "chi", "sta"}
