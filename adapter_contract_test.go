package authgate_test

import (
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authgatetest"
)

func TestMemoryAdapterKeepsTheAdapterContract(t *testing.T) {
	t.Parallel()
	a := authgatetest.NewMemoryAdapter() // one store for every subtest: they keep to their own names
	authgatetest.TestAdapter(t, func(t *testing.T) authgate.Adapter { return a })
}
