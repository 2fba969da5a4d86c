package io.prefstream.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Supplier;

/**
 * What a service's health also rests on, beside its own state: in the local stack, the pair builder
 * and the trainer that run in the same process, whose end would otherwise leave every {@code
 * /healthz} saying ok while no pair is built. Each check answers null when fine, else a one-line
 * problem.
 */
public final class Dependencies {

  private final Map<String, Supplier<String>> checks = new ConcurrentSkipListMap<>();

  /** Adds (or replaces) the check named {@code name}. */
  public void add(String name, Supplier<String> problem) {
    checks.put(name, problem);
  }

  /**
   * Adds {@code "depends": {name: "ok" | problem}} to {@code health} (nothing without checks).
   *
   * @return whether every check is fine
   */
  public boolean report(ObjectNode health) {
    if (checks.isEmpty()) {
      return true;
    }
    boolean ok = true;
    ObjectNode depends = health.putObject("depends");
    for (Map.Entry<String, Supplier<String>> c : checks.entrySet()) {
      String problem = c.getValue().get();
      depends.put(c.getKey(), problem == null ? "ok" : problem);
      ok &= problem == null;
    }
    return ok;
  }
}
