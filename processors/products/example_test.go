package products_test

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/processors/products"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

func observed(id string, at time.Time, price int64, rank int64) *marketv1.ProductObserved {
	return &marketv1.ProductObserved{
		Envelope:    &marketv1.Envelope{EventId: id, EventTime: timestamppb.New(at)},
		Asin:        "B0EXAMPLE1",
		Marketplace: "amazon.com",
		Attributes: &marketv1.ProductAttributes{
			Title: proto.String("USB-C charger"),
			Price: &marketv1.Money{AmountMinor: price, Currency: "USD"},
			Ranks: []*marketv1.BestSellersRank{{Rank: rank, Category: "Electronics"}},
		},
	}
}

// Apply folds observations into a product's state; the one that arrives late does not
// overwrite the newer price, and a redelivery changes nothing.
func ExampleApply() {
	cfg := products.DefaultConfig()
	t0 := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	newer := observed("0195a0c2-0000-7000-8000-000000000002", t0.Add(time.Hour), 2499, 40)
	older := observed("0195a0c2-0000-7000-8000-000000000001", t0, 2999, 42)

	var st *marketv1.ProductState
	for _, o := range []*marketv1.ProductObserved{newer, older, newer} {
		res, err := products.Apply(cfg, st, o)
		if err != nil {
			panic(err)
		}
		st = res.State
		fmt.Printf("changed=%v duplicate=%v change=%v\n", res.Changed, res.Duplicate, res.Change.GetChanges())
	}
	fmt.Println("price", st.GetLatest().GetPrice().GetAmountMinor(), "observations", st.GetObservationCount(), "version", st.GetVersion())
	// Output:
	// changed=true duplicate=false change=[PRODUCT_CHANGE_KIND_NEW_PRODUCT]
	// changed=true duplicate=false change=[]
	// changed=false duplicate=true change=[]
	// price 2499 observations 2 version 2
}

// MainCategoryRank reads what the keyword windows need of a product-tracker table value.
func ExampleMainCategoryRank() {
	res, err := products.Apply(products.DefaultConfig(), nil,
		observed("0195a0c2-0000-7000-8000-000000000003", time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC), 2499, 40))
	if err != nil {
		panic(err)
	}
	if cr, ok := products.MainCategoryRank(res.State); ok {
		fmt.Println(cr.Category, cr.Rank, cr.ObservedAt.Format(time.RFC3339))
	}
	// Output: Electronics 40 2025-03-10T12:00:00Z
}
