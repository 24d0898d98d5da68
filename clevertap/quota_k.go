package clevertap

// PerGroup returns K, the client's in-flight cap per API group.
func (c *Client) PerGroup() int { return c.quota.PerGroup() }
