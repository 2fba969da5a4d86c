package io.prefstream.scorer;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.model.Candidate;
import io.prefstream.model.RewardModel;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ScoringQueueTest {

  /** A model whose scoring waits for {@code release}, recording what it was asked to score. */
  private static RewardModel blocking(
      CountDownLatch started, CountDownLatch release, List<List<Candidate>> scored) {
    return (RewardModel)
        Proxy.newProxyInstance(
            RewardModel.class.getClassLoader(),
            new Class<?>[] {RewardModel.class},
            (proxy, method, args) -> {
              if (method.getName().equals("score")) {
                @SuppressWarnings("unchecked")
                List<Candidate> candidates = (List<Candidate>) args[0];
                scored.add(List.copyOf(candidates));
                started.countDown();
                release.await(10, TimeUnit.SECONDS);
                return new float[candidates.size()];
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }

  private static List<Candidate> candidates(String prompt, int n) {
    return java.util.stream.IntStream.range(0, n)
        .mapToObj(i -> new Candidate(prompt, "response " + i))
        .toList();
  }

  @Test
  void aJobCancelledWhileQueuedIsDroppedUnscoredAndFreesItsRoom() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<List<Candidate>> scored = new CopyOnWriteArrayList<>();
    try (ScoringQueue queue =
        new ScoringQueue(blocking(started, release, scored), 256, 64, 1, "test")) {
      CompletableFuture<float[]> first = queue.submit(candidates("first", 2));
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue(); // the worker is busy with it
      CompletableFuture<float[]> abandoned = queue.submit(candidates("abandoned", 8));
      CompletableFuture<float[]> waited = queue.submit(candidates("waited", 3));
      assertThat(queue.depth()).isEqualTo(13);

      abandoned.cancel(false); // its request timed out
      release.countDown();

      assertThat(first.get(10, TimeUnit.SECONDS)).hasSize(2);
      assertThat(waited.get(10, TimeUnit.SECONDS)).hasSize(3);
      assertThat(scored).hasSize(2);
      assertThat(scored.get(1)).extracting(Candidate::prompt).containsOnly("waited");
      assertThat(queue.depth()).isZero();
    }
  }
}
