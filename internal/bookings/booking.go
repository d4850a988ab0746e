package bookings

import (
	"math/big"
	"time"
)

// Booking is one booking as a Go struct whose avro tags match the fields of
// the Booking schema (schemas/actions/booking.avsc), so hamba/avro encodes it
// without the per-field lookups a generic map costs. Nullable fields are
// pointers, nil for null.
type Booking struct {
	Hotel                       string    `avro:"hotel"`
	IsCanceled                  int       `avro:"is_canceled"`
	LeadTime                    int       `avro:"lead_time"`
	ArrivalDateYear             int       `avro:"arrival_date_year"`
	ArrivalDateMonth            string    `avro:"arrival_date_month"`
	ArrivalDateWeekNumber       int       `avro:"arrival_date_week_number"`
	ArrivalDateDayOfMonth       int       `avro:"arrival_date_day_of_month"`
	StaysInWeekendNights        int       `avro:"stays_in_weekend_nights"`
	StaysInWeekNights           int       `avro:"stays_in_week_nights"`
	Adults                      int       `avro:"adults"`
	Children                    *int      `avro:"children"`
	Babies                      int       `avro:"babies"`
	Meal                        string    `avro:"meal"`
	Country                     *string   `avro:"country"`
	MarketSegment               string    `avro:"market_segment"`
	DistributionChannel         string    `avro:"distribution_channel"`
	IsRepeatedGuest             int       `avro:"is_repeated_guest"`
	PreviousCancellations       int       `avro:"previous_cancellations"`
	PreviousBookingsNotCanceled int       `avro:"previous_bookings_not_canceled"`
	ReservedRoomType            string    `avro:"reserved_room_type"`
	AssignedRoomType            string    `avro:"assigned_room_type"`
	BookingChanges              int       `avro:"booking_changes"`
	DepositType                 string    `avro:"deposit_type"`
	Agent                       *int      `avro:"agent"`
	Company                     *int      `avro:"company"`
	DaysInWaitingList           int       `avro:"days_in_waiting_list"`
	CustomerType                string    `avro:"customer_type"`
	ADR                         *big.Rat  `avro:"adr"`
	RequiredCarParkingSpaces    int       `avro:"required_car_parking_spaces"`
	TotalOfSpecialRequests      int       `avro:"total_of_special_requests"`
	ReservationStatus           string    `avro:"reservation_status"`
	ReservationStatusDate       time.Time `avro:"reservation_status_date"`
	ArrivalDate                 time.Time `avro:"arrival_date"`
	EventTime                   time.Time `avro:"event_time"`
	ActionID                    string    `avro:"action_id"`
}

// Map returns b in the generic form of github.com/hamba/avro/v2 (see
// Row.Value). The map shares nothing with b.
func (b *Booking) Map() map[string]any {
	return map[string]any{
		"hotel":                          b.Hotel,
		"is_canceled":                    b.IsCanceled,
		"lead_time":                      b.LeadTime,
		"arrival_date_year":              b.ArrivalDateYear,
		"arrival_date_month":             b.ArrivalDateMonth,
		"arrival_date_week_number":       b.ArrivalDateWeekNumber,
		"arrival_date_day_of_month":      b.ArrivalDateDayOfMonth,
		"stays_in_weekend_nights":        b.StaysInWeekendNights,
		"stays_in_week_nights":           b.StaysInWeekNights,
		"adults":                         b.Adults,
		"children":                       nullable(b.Children),
		"babies":                         b.Babies,
		"meal":                           b.Meal,
		"country":                        nullable(b.Country),
		"market_segment":                 b.MarketSegment,
		"distribution_channel":           b.DistributionChannel,
		"is_repeated_guest":              b.IsRepeatedGuest,
		"previous_cancellations":         b.PreviousCancellations,
		"previous_bookings_not_canceled": b.PreviousBookingsNotCanceled,
		"reserved_room_type":             b.ReservedRoomType,
		"assigned_room_type":             b.AssignedRoomType,
		"booking_changes":                b.BookingChanges,
		"deposit_type":                   b.DepositType,
		"agent":                          nullable(b.Agent),
		"company":                        nullable(b.Company),
		"days_in_waiting_list":           b.DaysInWaitingList,
		"customer_type":                  b.CustomerType,
		"adr":                            new(big.Rat).Set(b.ADR),
		"required_car_parking_spaces":    b.RequiredCarParkingSpaces,
		"total_of_special_requests":      b.TotalOfSpecialRequests,
		"reservation_status":             b.ReservationStatus,
		"reservation_status_date":        b.ReservationStatusDate,
		"arrival_date":                   b.ArrivalDate,
		"event_time":                     b.EventTime,
		"action_id":                      b.ActionID,
	}
}

// nullable returns the value p points to, or an untyped nil for a nil p, so
// that a null reads as nil rather than as a typed nil pointer.
func nullable[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
