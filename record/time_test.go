package record

import "testing"

func TestTimeRounding(t *testing.T) {
	for _, tc := range []struct {
		t, res      int64
		round, exit int64
	}{
		{1_234_567, 0, 1_234_567, 1_234_567},
		{1_234_567, 1, 1_234_567, 1_234_567},
		{1_234_567, 1000, 1_234_000, 1_234_000},
		{1_234_567, 1_000_000, 1_000_000, 1_000_000},
		{999, 1000, 0, 1000}, // an exit in the first tick is not "not seen"
		{999_999, 1_000_000, 0, 1_000_000},
		{5, 0, 5, 5},
		{0, 1000, 0, 0}, // exit 0 stays "not seen"
	} {
		if got := roundTime(tc.t, tc.res); got != tc.round {
			t.Errorf("roundTime(%d, %d) = %d, want %d", tc.t, tc.res, got, tc.round)
		}
		if got := exitTime(tc.t, tc.res); got != tc.exit {
			t.Errorf("exitTime(%d, %d) = %d, want %d", tc.t, tc.res, got, tc.exit)
		}
	}
}
