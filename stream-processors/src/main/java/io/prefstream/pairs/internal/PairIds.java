package io.prefstream.pairs.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic identities: pair ids (SHA-256 of what a pair came from, so a replay yields the same
 * id), 64-bit keys for the sets kept in state, and the stable HOLDOUT draw.
 */
final class PairIds {

  private static final HexFormat HEX = HexFormat.of();
  private final MessageDigest sha256;

  PairIds() {
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** 128 bits of SHA-256 over the parts (separated by NUL), as 32 hex characters. */
  String pairId(String... parts) {
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        sha256.update((byte) 0);
      }
      sha256.update(parts[i].getBytes(StandardCharsets.UTF_8));
    }
    byte[] digest = sha256.digest();
    return HEX.formatHex(digest, 0, 16);
  }

  /** A 64-bit key of a string for the id sets kept in state (FNV-1a, then a murmur finaliser). */
  static long key(String s) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    return mix(h ^ s.length());
  }

  /**
   * True for a stable share of interactions: every pair of an interaction lands in the same split,
   * so a prompt never appears in both training and evaluation.
   */
  static boolean holdout(String tenant, String interaction, double share) {
    if (share <= 0) {
      return false;
    }
    long h = mix(key(tenant) * 31 + key(interaction));
    double u = (h >>> 11) * 0x1.0p-53;
    return u < share;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }
}
