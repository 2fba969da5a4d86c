package io.prefstream.http;

/**
 * Who a request comes from, by its API key: one tenant, or an operator, whose key reads every
 * tenant's figures (dashboards, alerts, models) but neither sends feedback nor scores.
 *
 * @param tenant the tenant, or null for an operator
 */
public record Caller(String tenant) {

  /** The caller of an operator key. */
  public static final Caller OPERATOR = new Caller(null);

  public static Caller tenant(String tenant) {
    if (tenant == null || tenant.isEmpty()) {
      throw new IllegalArgumentException("a tenant caller needs a tenant");
    }
    return new Caller(tenant);
  }

  public boolean operator() {
    return tenant == null;
  }

  /** Whether this caller may read {@code tenant}'s figures: its own, or any for an operator. */
  public boolean sees(String tenant) {
    return operator() || this.tenant.equals(tenant);
  }

  @Override
  public String toString() {
    return operator() ? "operator" : "tenant " + tenant;
  }
}
