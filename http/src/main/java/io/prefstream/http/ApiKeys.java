package io.prefstream.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * API keys per tenant, kept only as SHA-256 digests and compared in constant time. A tenant may
 * have several keys (rotation). Keys come from {@code PREFSTREAM_API_KEYS="tenantA=keyA,..."} or a
 * file of {@code tenant=key} lines, where a key may also be given as {@code sha256:HEX} so the file
 * need not hold secrets. An entry for the tenant {@value #OPERATOR} is an operator's key: it reads
 * every tenant's figures (dashboard, alerts, drift, models) and cannot send or score. Never logs or
 * prints a key.
 */
public final class ApiKeys {

  public static final String ENV = "PREFSTREAM_API_KEYS";
  public static final String FILE_ENV = "PREFSTREAM_API_KEYS_FILE";
  public static final String DEMO_TENANT = "demo";
  public static final String DEMO_KEY = "demo-key";

  /** The tenant name that marks an operator's key: {@code *=KEY}. */
  public static final String OPERATOR = "*";

  private static final String HASH_PREFIX = "sha256:";

  private record Entry(String tenant, byte[] digest) {}

  private final List<Entry> entries;
  private final String source;

  private ApiKeys(List<Entry> entries, String source) {
    if (entries.isEmpty()) {
      throw new IllegalArgumentException("no API keys in " + source);
    }
    this.entries = List.copyOf(entries);
    this.source = source;
  }

  /**
   * Parses {@code tenant=key[,tenant=key...]}; {@code source} names where it came from, for errors.
   */
  public static ApiKeys parse(String spec, String source) {
    List<Entry> entries = new ArrayList<>();
    for (String part : spec.split("[,\\n]")) {
      String item = part.strip();
      if (item.isEmpty() || item.startsWith("#")) {
        continue;
      }
      int eq = item.indexOf('=');
      if (eq <= 0 || eq == item.length() - 1) {
        throw new IllegalArgumentException(
            source + ": expected tenant=key, got an entry of " + item.length() + " characters");
      }
      String tenant = item.substring(0, eq).strip();
      String key = item.substring(eq + 1).strip();
      entries.add(new Entry(tenant, digestOf(key, source)));
    }
    return new ApiKeys(entries, source);
  }

  public static ApiKeys fromFile(Path file) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read API keys file " + file + ": " + e, e);
    }
  }

  /** The local default: tenant {@value #DEMO_TENANT} with key {@value #DEMO_KEY}. */
  public static ApiKeys localDefault() {
    return parse(DEMO_TENANT + "=" + DEMO_KEY, "the local default");
  }

  /**
   * From {@value #ENV}, else the file named by {@value #FILE_ENV}, else {@link #localDefault()}.
   */
  public static ApiKeys fromEnvironment(Map<String, String> env) {
    String spec = env.get(ENV);
    if (spec != null && !spec.isBlank()) {
      return parse(spec, ENV);
    }
    String file = env.get(FILE_ENV);
    if (file != null && !file.isBlank()) {
      return fromFile(Path.of(file));
    }
    return localDefault();
  }

  /**
   * The tenant whose key this is; empty for an unknown key and for an operator's. Every stored
   * digest is compared, so timing tells nothing.
   */
  public Optional<String> tenantOf(String presentedKey) {
    return callerOf(presentedKey).filter(c -> !c.operator()).map(Caller::tenant);
  }

  /** Whose key this is, a tenant's or an operator's; empty for an unknown key. */
  public Optional<Caller> callerOf(String presentedKey) {
    byte[] presented = sha256(presentedKey);
    String found = null;
    for (Entry entry : entries) {
      if (MessageDigest.isEqual(entry.digest, presented) && found == null) {
        found = entry.tenant;
      }
    }
    if (found == null) {
      return Optional.empty();
    }
    return Optional.of(found.equals(OPERATOR) ? Caller.OPERATOR : Caller.tenant(found));
  }

  /** The tenants that have a key (operators are not tenants). */
  public Set<String> tenants() {
    Set<String> tenants = new TreeSet<>();
    entries.stream().filter(e -> !e.tenant.equals(OPERATOR)).forEach(e -> tenants.add(e.tenant));
    return tenants;
  }

  /** Whether any operator key is configured. */
  public boolean hasOperators() {
    return entries.stream().anyMatch(e -> e.tenant.equals(OPERATOR));
  }

  /** True when these are exactly the built-in demo credentials. */
  public boolean isLocalDefault() {
    return entries.size() == 1
        && entries.get(0).tenant.equals(DEMO_TENANT)
        && tenantOf(DEMO_KEY).isPresent();
  }

  public String source() {
    return source;
  }

  @Override
  public String toString() {
    return "ApiKeys[tenants="
        + tenants()
        + (hasOperators() ? ", operators" : "")
        + ", source="
        + source
        + "]";
  }

  private static byte[] digestOf(String key, String source) {
    if (key.startsWith(HASH_PREFIX)) {
      String hex = key.substring(HASH_PREFIX.length());
      if (!hex.matches("[0-9a-fA-F]{64}")) {
        throw new IllegalArgumentException(source + ": sha256: must be followed by 64 hex digits");
      }
      return HexFormat.of().parseHex(hex);
    }
    return sha256(key);
  }

  static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
