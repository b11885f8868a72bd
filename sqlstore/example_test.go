package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/sqlstore"
)

func Example() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	// A SQLite file; "postgres://…" would open PostgreSQL instead.
	store, err := sqlstore.Open(ctx, filepath.Join(dir, "authgate.db"), sqlstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	alice := &authgate.AdapterUser{Email: "alice@example.com", Name: "Alice", Role: "admin"}
	if err := store.CreateUser(ctx, alice); err != nil {
		log.Fatal(err)
	}
	err = store.CreateUser(ctx, &authgate.AdapterUser{Email: "ALICE@example.com"})
	fmt.Println("second sign-up of the address:", errors.Is(err, authgate.ErrConflict))

	// A username is an account of the provider "credentials".
	if err := store.LinkAccount(ctx, alice.ID, authgate.Account{Provider: "credentials", Type: "credentials", ProviderAccountID: "alice"}); err != nil {
		log.Fatal(err)
	}
	u, err := store.UserByAccount(ctx, "credentials", "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Name, u.Role)
	// Output:
	// second sign-up of the address: true
	// Alice admin
}
