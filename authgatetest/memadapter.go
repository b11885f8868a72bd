package authgatetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate"
)

// MemoryAdapter is an [authgate.Adapter] in memory, with every optional
// interface ([authgate.PasswordAdapter], [authgate.SecondFactorAdapter],
// [authgate.PasskeyAdapter]), for tests of an app's own handlers: it keeps
// the adapter contract ([TestAdapter] checks it) but nothing survives the
// process, and one instance cannot be shared by several processes. Use
// the module github.com/authgate/authgate/sqlstore in an app.
//
// Fail, when set, makes every method return its error without doing
// anything: a store outage. MemoryAdapter is safe for concurrent use.
type MemoryAdapter struct {
	mu       sync.Mutex
	fail     error
	users    map[string]*memUser
	accounts []memAccount
	sessions []authgate.AdapterSession
	tokens   []authgate.VerificationToken
	factors  map[string]*authgate.SecondFactor
	handles  map[string][]byte
	passkeys []authgate.Passkey
	calls    int
}

type memUser struct {
	u    authgate.AdapterUser
	hash string
}

type memAccount struct {
	userID string
	a      authgate.Account
}

// NewMemoryAdapter returns an empty MemoryAdapter.
func NewMemoryAdapter() *MemoryAdapter {
	return &MemoryAdapter{users: map[string]*memUser{}, factors: map[string]*authgate.SecondFactor{}, handles: map[string][]byte{}}
}

// SetFail makes every later call fail with err (nil: work again).
func (m *MemoryAdapter) SetFail(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

// Calls returns how many calls the adapter has answered, failed ones
// included: tests use it to show that a request did not reach the store.
func (m *MemoryAdapter) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// begin locks m and returns the error the call must end with, if any.
func (m *MemoryAdapter) begin(ctx context.Context) error {
	m.mu.Lock()
	m.calls++
	if m.fail != nil {
		return m.fail
	}
	return ctx.Err()
}

func emailKey(e string) string { return strings.ToLower(e) }

func (m *MemoryAdapter) emailTaken(email, except string) bool {
	if email == "" {
		return false
	}
	for id, u := range m.users {
		if id != except && emailKey(u.u.Email) == emailKey(email) {
			return true
		}
	}
	return false
}

// CreateUser implements [authgate.Adapter].
func (m *MemoryAdapter) CreateUser(ctx context.Context, u *authgate.AdapterUser) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	id := u.ID
	if id == "" {
		id = randomID()
	}
	if _, taken := m.users[id]; taken || m.emailTaken(u.Email, "") {
		return authgate.ErrConflict
	}
	u.ID = id
	if u.Created.IsZero() {
		u.Created = time.Now().UTC().Truncate(time.Millisecond)
	}
	m.users[id] = &memUser{u: *u}
	return nil
}

// User implements [authgate.Adapter].
func (m *MemoryAdapter) User(ctx context.Context, id string) (*authgate.AdapterUser, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	if u, ok := m.users[id]; ok {
		cp := u.u
		return &cp, nil
	}
	return nil, authgate.ErrNotFound
}

// UserByEmail implements [authgate.Adapter].
func (m *MemoryAdapter) UserByEmail(ctx context.Context, email string) (*authgate.AdapterUser, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	for _, u := range m.users {
		if email != "" && emailKey(u.u.Email) == emailKey(email) {
			cp := u.u
			return &cp, nil
		}
	}
	return nil, authgate.ErrNotFound
}

// UserByAccount implements [authgate.Adapter].
func (m *MemoryAdapter) UserByAccount(ctx context.Context, provider, providerAccountID string) (*authgate.AdapterUser, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	for _, a := range m.accounts {
		if a.a.Provider == provider && a.a.ProviderAccountID == providerAccountID {
			if u, ok := m.users[a.userID]; ok {
				cp := u.u
				return &cp, nil
			}
		}
	}
	return nil, authgate.ErrNotFound
}

// UpdateUser implements [authgate.Adapter].
func (m *MemoryAdapter) UpdateUser(ctx context.Context, u *authgate.AdapterUser) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	cur, ok := m.users[u.ID]
	if !ok {
		return authgate.ErrNotFound
	}
	if m.emailTaken(u.Email, u.ID) {
		return authgate.ErrConflict
	}
	cur.u.Email, cur.u.EmailVerified, cur.u.Name, cur.u.Image, cur.u.Role = u.Email, u.EmailVerified, u.Name, u.Image, u.Role
	return nil
}

// DeleteUser implements [authgate.Adapter].
func (m *MemoryAdapter) DeleteUser(ctx context.Context, id string) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	if _, ok := m.users[id]; !ok {
		return authgate.ErrNotFound
	}
	delete(m.users, id)
	delete(m.factors, id)
	delete(m.handles, id)
	m.accounts = slices.DeleteFunc(m.accounts, func(a memAccount) bool { return a.userID == id })
	m.sessions = slices.DeleteFunc(m.sessions, func(s authgate.AdapterSession) bool { return s.UserID == id })
	m.passkeys = slices.DeleteFunc(m.passkeys, func(p authgate.Passkey) bool { return p.UserID == id })
	return nil
}

// LinkAccount implements [authgate.Adapter].
func (m *MemoryAdapter) LinkAccount(ctx context.Context, userID string, a authgate.Account) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	if _, ok := m.users[userID]; !ok {
		return authgate.ErrNotFound
	}
	for _, x := range m.accounts {
		if x.a.Provider == a.Provider && x.a.ProviderAccountID == a.ProviderAccountID {
			return authgate.ErrConflict
		}
	}
	m.accounts = append(m.accounts, memAccount{userID, a})
	return nil
}

// UnlinkAccount implements [authgate.Adapter].
func (m *MemoryAdapter) UnlinkAccount(ctx context.Context, provider, providerAccountID string) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	n := len(m.accounts)
	m.accounts = slices.DeleteFunc(m.accounts, func(x memAccount) bool {
		return x.a.Provider == provider && x.a.ProviderAccountID == providerAccountID
	})
	if len(m.accounts) == n {
		return authgate.ErrNotFound
	}
	return nil
}

// Accounts implements [authgate.Adapter].
func (m *MemoryAdapter) Accounts(ctx context.Context, userID string) ([]authgate.Account, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	var out []authgate.Account
	for _, x := range m.accounts {
		if x.userID == userID {
			out = append(out, x.a)
		}
	}
	return out, nil
}

// CreateSession implements [authgate.Adapter].
func (m *MemoryAdapter) CreateSession(ctx context.Context, s *authgate.AdapterSession) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	for _, x := range m.sessions {
		if x.ID == s.ID || (len(s.TokenHash) > 0 && bytes.Equal(x.TokenHash, s.TokenHash)) {
			return authgate.ErrConflict
		}
	}
	m.sessions = append(m.sessions, cloneSession(*s))
	return nil
}

func cloneSession(s authgate.AdapterSession) authgate.AdapterSession {
	s.TokenHash, s.Data = bytes.Clone(s.TokenHash), bytes.Clone(s.Data)
	return s
}

// SessionByToken implements [authgate.Adapter].
func (m *MemoryAdapter) SessionByToken(ctx context.Context, tokenHash []byte) (*authgate.AdapterSession, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	for _, x := range m.sessions {
		if len(tokenHash) > 0 && bytes.Equal(x.TokenHash, tokenHash) {
			cp := cloneSession(x)
			return &cp, nil
		}
	}
	return nil, authgate.ErrNotFound
}

// UpdateSession implements [authgate.Adapter].
func (m *MemoryAdapter) UpdateSession(ctx context.Context, s *authgate.AdapterSession) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	for i := range m.sessions {
		x := &m.sessions[i]
		if x.ID != s.ID {
			continue
		}
		if s.Data != nil {
			x.Data = bytes.Clone(s.Data)
		}
		if s.LastSeen.After(x.LastSeen) {
			x.LastSeen, x.Expires = s.LastSeen, s.Expires
		}
		return nil
	}
	return authgate.ErrNotFound
}

// DeleteSession implements [authgate.Adapter].
func (m *MemoryAdapter) DeleteSession(ctx context.Context, userID, id string) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	n := len(m.sessions)
	m.sessions = slices.DeleteFunc(m.sessions, func(x authgate.AdapterSession) bool { return x.UserID == userID && x.ID == id })
	if len(m.sessions) == n {
		return authgate.ErrNotFound
	}
	return nil
}

// Sessions implements [authgate.Adapter].
func (m *MemoryAdapter) Sessions(ctx context.Context, userID string) ([]authgate.AdapterSession, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	var out []authgate.AdapterSession
	for _, x := range m.sessions {
		if x.UserID == userID {
			out = append(out, cloneSession(x))
		}
	}
	slices.SortStableFunc(out, func(a, b authgate.AdapterSession) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// DeleteSessions implements [authgate.Adapter].
func (m *MemoryAdapter) DeleteSessions(ctx context.Context, userID, keepID string) ([]string, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	var deleted []string
	m.sessions = slices.DeleteFunc(m.sessions, func(x authgate.AdapterSession) bool {
		if x.UserID == userID && x.ID != keepID {
			deleted = append(deleted, x.ID)
			return true
		}
		return false
	})
	return deleted, nil
}

// CreateVerificationToken implements [authgate.Adapter].
func (m *MemoryAdapter) CreateVerificationToken(ctx context.Context, t authgate.VerificationToken) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	m.tokens = slices.DeleteFunc(m.tokens, func(x authgate.VerificationToken) bool { return x.Identifier == t.Identifier })
	t.TokenHash = bytes.Clone(t.TokenHash)
	m.tokens = append(m.tokens, t)
	return nil
}

// UseVerificationToken implements [authgate.Adapter].
func (m *MemoryAdapter) UseVerificationToken(ctx context.Context, identifier string, tokenHash []byte) (*authgate.VerificationToken, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	for i, x := range m.tokens {
		if x.Identifier == identifier && bytes.Equal(x.TokenHash, tokenHash) {
			m.tokens = slices.Delete(m.tokens, i, i+1)
			return &x, nil
		}
	}
	return nil, authgate.ErrNotFound
}

// PasswordHash implements [authgate.PasswordAdapter].
func (m *MemoryAdapter) PasswordHash(ctx context.Context, userID string) (string, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return "", err
	}
	u, ok := m.users[userID]
	if !ok {
		return "", authgate.ErrNotFound
	}
	return u.hash, nil
}

// SetPasswordHash implements [authgate.PasswordAdapter].
func (m *MemoryAdapter) SetPasswordHash(ctx context.Context, userID, hash string) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	u, ok := m.users[userID]
	if !ok {
		return authgate.ErrNotFound
	}
	u.hash = hash
	return nil
}

// SecondFactor implements [authgate.SecondFactorAdapter].
func (m *MemoryAdapter) SecondFactor(ctx context.Context, userID string) (*authgate.SecondFactor, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	f, ok := m.factors[userID]
	if !ok {
		return nil, authgate.ErrNotFound
	}
	cp := *f
	cp.TOTPSecret = bytes.Clone(f.TOTPSecret)
	cp.RecoveryCodes = slices.Clone(f.RecoveryCodes)
	return &cp, nil
}

// SetSecondFactor implements [authgate.SecondFactorAdapter].
func (m *MemoryAdapter) SetSecondFactor(ctx context.Context, userID string, f authgate.SecondFactor) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	if old, ok := m.factors[userID]; ok {
		f.LastStep = max(f.LastStep, old.LastStep)
	}
	f.TOTPSecret = bytes.Clone(f.TOTPSecret)
	f.RecoveryCodes = slices.Clone(f.RecoveryCodes)
	m.factors[userID] = &f
	return nil
}

// DeleteSecondFactor implements [authgate.SecondFactorAdapter].
func (m *MemoryAdapter) DeleteSecondFactor(ctx context.Context, userID string) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	if _, ok := m.factors[userID]; !ok {
		return authgate.ErrNotFound
	}
	delete(m.factors, userID)
	return nil
}

// UseTOTPStep implements [authgate.SecondFactorAdapter].
func (m *MemoryAdapter) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	f, ok := m.factors[userID]
	switch {
	case !ok:
		return authgate.ErrNotFound
	case step <= f.LastStep:
		return authgate.ErrConflict
	}
	f.LastStep = step
	return nil
}

// UseRecoveryCode implements [authgate.SecondFactorAdapter].
func (m *MemoryAdapter) UseRecoveryCode(ctx context.Context, userID string, codeHash []byte) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	f, ok := m.factors[userID]
	if !ok {
		return authgate.ErrNotFound
	}
	i := slices.IndexFunc(f.RecoveryCodes, func(h []byte) bool { return bytes.Equal(h, codeHash) })
	if i < 0 {
		return authgate.ErrNotFound
	}
	f.RecoveryCodes = slices.Delete(slices.Clone(f.RecoveryCodes), i, i+1)
	return nil
}

// UserHandle implements [authgate.PasskeyAdapter].
func (m *MemoryAdapter) UserHandle(ctx context.Context, userID string) ([]byte, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	h, ok := m.handles[userID]
	if !ok {
		h = make([]byte, 32)
		rand.Read(h)
		m.handles[userID] = h
	}
	return bytes.Clone(h), nil
}

// UserIDByHandle implements [authgate.PasskeyAdapter].
func (m *MemoryAdapter) UserIDByHandle(ctx context.Context, handle []byte) (string, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return "", err
	}
	for id, h := range m.handles {
		if bytes.Equal(h, handle) {
			return id, nil
		}
	}
	return "", authgate.ErrNotFound
}

// CreatePasskey implements [authgate.PasskeyAdapter].
func (m *MemoryAdapter) CreatePasskey(ctx context.Context, p *authgate.Passkey) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	if m.passkeyIndex("", p.CredentialID) >= 0 {
		return authgate.ErrConflict
	}
	m.passkeys = append(m.passkeys, clonePasskey(*p))
	return nil
}

// passkeyIndex returns the index of the credential (of userID, unless
// it is empty), or -1.
func (m *MemoryAdapter) passkeyIndex(userID string, id []byte) int {
	return slices.IndexFunc(m.passkeys, func(p authgate.Passkey) bool {
		return bytes.Equal(p.CredentialID, id) && (userID == "" || p.UserID == userID)
	})
}

func clonePasskey(p authgate.Passkey) authgate.Passkey {
	p.CredentialID, p.PublicKey, p.AAGUID, p.Data = bytes.Clone(p.CredentialID), bytes.Clone(p.PublicKey), bytes.Clone(p.AAGUID), bytes.Clone(p.Data)
	p.Transports = slices.Clone(p.Transports)
	return p
}

// Passkey implements [authgate.PasskeyAdapter].
func (m *MemoryAdapter) Passkey(ctx context.Context, credentialID []byte) (*authgate.Passkey, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	i := m.passkeyIndex("", credentialID)
	if i < 0 {
		return nil, authgate.ErrNotFound
	}
	p := clonePasskey(m.passkeys[i])
	return &p, nil
}

// Passkeys implements [authgate.PasskeyAdapter].
func (m *MemoryAdapter) Passkeys(ctx context.Context, userID string) ([]authgate.Passkey, error) {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return nil, err
	}
	var out []authgate.Passkey
	for _, p := range m.passkeys {
		if p.UserID == userID {
			out = append(out, clonePasskey(p))
		}
	}
	slices.SortStableFunc(out, func(a, b authgate.Passkey) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// UpdatePasskey implements [authgate.PasskeyAdapter].
func (m *MemoryAdapter) UpdatePasskey(ctx context.Context, p *authgate.Passkey) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	i := m.passkeyIndex(p.UserID, p.CredentialID)
	if i < 0 {
		return authgate.ErrNotFound
	}
	x := &m.passkeys[i]
	x.Name = p.Name
	x.CloneWarning = x.CloneWarning || p.CloneWarning
	return nil
}

// UsePasskey implements [authgate.PasskeyAdapter].
func (m *MemoryAdapter) UsePasskey(ctx context.Context, p *authgate.Passkey) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	i := m.passkeyIndex(p.UserID, p.CredentialID)
	if i < 0 {
		return authgate.ErrNotFound
	}
	x := &m.passkeys[i]
	if p.SignCount <= x.SignCount && (p.SignCount != 0 || x.SignCount != 0) {
		return authgate.ErrConflict
	}
	x.SignCount, x.BackupState, x.LastUsed, x.Data = p.SignCount, p.BackupState, p.LastUsed, bytes.Clone(p.Data)
	return nil
}

// DeletePasskey implements [authgate.PasskeyAdapter].
func (m *MemoryAdapter) DeletePasskey(ctx context.Context, userID string, credentialID []byte) error {
	defer m.mu.Unlock()
	if err := m.begin(ctx); err != nil {
		return err
	}
	i := m.passkeyIndex(userID, credentialID)
	if i < 0 {
		return authgate.ErrNotFound
	}
	m.passkeys = slices.Delete(m.passkeys, i, i+1)
	return nil
}

// randomID returns 128 random bits, base64url.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var (
	_ authgate.PasswordAdapter     = (*MemoryAdapter)(nil)
	_ authgate.SecondFactorAdapter = (*MemoryAdapter)(nil)
	_ authgate.PasskeyAdapter      = (*MemoryAdapter)(nil)
)
