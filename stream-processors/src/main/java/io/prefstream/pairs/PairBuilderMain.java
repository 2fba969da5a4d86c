package io.prefstream.pairs;

import io.prefstream.config.Settings;
import io.prefstream.service.Services;

/**
 * Runs the pair builder alone, as its own process, on a Flink MiniCluster inside it: {@code
 * PairBuilderMain [--config FILE] [key=value ...]} with {@code pairs.*}, {@code flink.*} and {@code
 * kafka.*} keys (environment variables {@code PREFSTREAM_PAIRS_...} too); checkpoints in {@code
 * pairs.local-state-dir}, resumed on restart. {@code prefstream run pair-builder} starts it by
 * {@link LocalPairBuilder#start}. On a Flink cluster the job's entry point is {@link
 * PairBuilderJob#main} instead.
 */
public final class PairBuilderMain {

  private PairBuilderMain() {}

  public static void main(String[] args) {
    Services.main(
        "pair-builder",
        () -> {
          LocalPairBuilder pairs =
              LocalPairBuilder.start(
                  Settings.fromArgs(
                      Settings.fromEnv(System.getenv(), PairBuilderOptions.ALL), args));
          pairs.onUnexpectedEnd(Services::halt);
          return pairs;
        });
  }
}
