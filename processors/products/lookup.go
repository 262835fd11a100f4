package products

import (
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// CategoryRank is a product's main category and main best-sellers rank as the tracker knows them.
type CategoryRank struct {
	// Category is the category of the main best-sellers rank, else the page's leaf category; ""
	// when neither was observed.
	Category string
	// Rank is the main best-sellers rank (1 is the best seller); 0 when none was observed.
	Rank int64
	// ObservedAt is the event time of the observation the rank (else the category) came from;
	// zero when neither was observed.
	ObservedAt time.Time
}

// MainCategoryRank reads a product's main category and best-sellers rank from its tracker state
// (a value of the product-tracker table); ok is false when the state knows neither.
func MainCategoryRank(st *marketv1.ProductState) (cr CategoryRank, ok bool) {
	l := st.GetLatest()
	if ranks := l.GetRanks(); len(ranks) > 0 {
		cr.Rank = ranks[0].GetRank()
		cr.Category = ranks[0].GetCategory()
		cr.ObservedAt = fieldTime(st, FieldRanks)
	}
	if cr.Category == "" && l.GetCategory() != "" {
		cr.Category = l.GetCategory()
		if cr.Rank == 0 {
			cr.ObservedAt = fieldTime(st, FieldCategory)
		}
	}
	return cr, cr.Category != "" || cr.Rank != 0
}

// fieldTime returns the event time of a field of latest (zero when unknown).
func fieldTime(st *marketv1.ProductState, field string) time.Time {
	ms, ok := st.GetFieldTimeUnixMs()[field]
	if !ok {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
