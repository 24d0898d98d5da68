package clevertap

// PerGroup returns K, the client's in-flight cap per API group.
func (c *Client) PerGroup() int { return c.quota.PerGroup() }

// Account describes the account the client calls, for messages: its id and
// the API host (never the passcode).
func (c *Client) Account() string {
	return c.creds.accountID + " at " + c.baseURL
}
