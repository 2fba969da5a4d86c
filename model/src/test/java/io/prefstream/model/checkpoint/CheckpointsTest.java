package io.prefstream.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.model.ModelSpec;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {

  @TempDir Path root;
  private Checkpoints.Sealed lastSealed;

  static Manifest manifest(String tenant, long version) {
    return new Manifest(
        Manifest.FORMAT,
        tenant,
        "reward",
        version,
        version > 1 ? version - 1 : null,
        "ngram-mlp",
        ModelSpec.defaults().config(),
        1,
        Map.of("holdout_accuracy", 0.75),
        0.1,
        1.5,
        new Manifest.Histogram(new double[] {-1, 0, 1}, new long[] {3, 4}),
        List.of(new Manifest.Offset("prefstream.pairs", 0, 42)),
        1234,
        56,
        List.of(),
        "2026-11-23T10:00:00Z");
  }

  private CheckpointId write(DirectoryCheckpointStore store, String tenant, long version)
      throws Exception {
    Path staged = store.newStagingDirectory();
    Files.writeString(staged.resolve("parameters.bin"), "weights v" + version);
    Files.writeString(staged.resolve("optimizer.bin"), "moments v" + version);
    lastSealed = Checkpoints.seal(staged, manifest(tenant, version));
    store.commit(staged, new CheckpointId(tenant, "reward", version));
    return new CheckpointId(tenant, "reward", version);
  }

  @Test
  void writersCommittingAtOnceEachGetTheirOwnVersionNoneOverwritten() throws Exception {
    DirectoryCheckpointStore store = new DirectoryCheckpointStore(root);
    int writers = 4;
    int each = 15;
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(writers);
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    List<java.util.concurrent.Future<List<Long>>> runs = new java.util.ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int writer = w;
      runs.add(
          pool.submit(
              () -> {
                go.await();
                List<Long> mine = new java.util.ArrayList<>();
                for (int i = 0; i < each; i++) {
                  Path staged = store.newStagingDirectory();
                  Files.writeString(
                      staged.resolve("parameters.bin"), "writer " + writer + " #" + i);
                  CheckpointStore.Committed c =
                      store.commitNext(staged, "demo", "reward", v -> manifest("demo", v));
                  assertThat(c.uri()).isEqualTo(store.uri(c.sealed().manifest().id()));
                  mine.add(c.sealed().manifest().version());
                }
                return mine;
              }));
    }
    go.countDown();
    List<Long> all = new java.util.ArrayList<>();
    for (var run : runs) {
      all.addAll(run.get(1, java.util.concurrent.TimeUnit.MINUTES));
    }
    pool.shutdown();
    assertThat(all).doesNotHaveDuplicates().hasSize(writers * each);
    assertThat(store.list("demo", "reward"))
        .extracting(CheckpointId::version)
        .containsExactlyElementsOf(
            java.util.stream.LongStream.rangeClosed(1, writers * each).boxed().toList());
    // Each committed directory is whole and sealed for its own version.
    for (CheckpointId id : store.list("demo", "reward")) {
      assertThat(Checkpoints.verify(store.fetch(id), null).version()).isEqualTo(id.version());
    }
  }

  @Test
  void retentionKeepsTheNewestAndEveryNeededVersion() {
    List<CheckpointId> versions = new java.util.ArrayList<>();
    for (long v = 1; v <= 8; v++) {
      versions.add(new CheckpointId("acme", "reward", v));
    }
    assertThat(new Retention(3).prunable(versions, java.util.Set.of(2L, 7L)))
        .extracting(CheckpointId::version)
        .containsExactly(1L, 3L, 4L, 5L);
    assertThat(new Retention(0).prunable(versions, java.util.Set.of())).isEmpty();
    assertThat(new Retention(10).prunable(versions, java.util.Set.of())).isEmpty();
    // Deltas: v4 full, v5..v8 deltas each on the one before, v1 full, v2 a delta on v1. The
    // newest three (6, 7, 8) keep their chain back to v4; v2 (needed) keeps v1.
    java.util.Map<Long, Long> deltaOn = java.util.Map.of(2L, 1L, 5L, 4L, 6L, 5L, 7L, 6L, 8L, 7L);
    assertThat(new Retention(3).prunable(versions, java.util.Set.of(2L), deltaOn::get))
        .extracting(CheckpointId::version)
        .containsExactly(3L);
  }

  @Test
  void aDeletedCheckpointLeavesTheStoreWholeAndDeletingTwiceIsHarmless() throws Exception {
    DirectoryCheckpointStore store = new DirectoryCheckpointStore(root);
    for (long v = 1; v <= 3; v++) {
      write(store, "acme", v);
    }
    store.delete(new CheckpointId("acme", "reward", 2));
    store.delete(new CheckpointId("acme", "reward", 2));
    assertThat(store.list("acme", "reward"))
        .extracting(CheckpointId::version)
        .containsExactly(1L, 3L);
    assertThat(store.listAll()).hasSize(2);
    try (var staged = Files.list(root.resolve(".staging"))) {
      assertThat(staged).isEmpty(); // nothing half-deleted left behind
    }
    // the version is not handed out again
    Path staged = store.newStagingDirectory();
    Files.writeString(staged.resolve("parameters.bin"), "next");
    var committed = store.commitNext(staged, "acme", "reward", v -> manifest("acme", v));
    assertThat(committed.sealed().manifest().version()).isEqualTo(4);
  }

  @Test
  void manifestRoundTripsThroughJson() throws Exception {
    Manifest m = manifest("demo", 3);
    Manifest back = Manifest.fromJson(m.toJson());
    assertThat(back.toJson()).isEqualTo(m.toJson());
    assertThat(back.spec()).isEqualTo(ModelSpec.defaults());
    assertThat(back.offsets()).containsExactly(new Manifest.Offset("prefstream.pairs", 0, 42));
    assertThat(new String(m.toJson())).contains("\"pairs_seen\" : 1234", "\"reward_std\" : 1.5");
  }

  @Test
  void sealedCheckpointVerifiesWithEveryFileDigested() throws Exception {
    DirectoryCheckpointStore store = new DirectoryCheckpointStore(root);
    CheckpointId id = write(store, "demo", 1);
    Path dir = store.fetch(id);
    String sha = Checkpoints.sha256(dir.resolve(Manifest.FILE_NAME));
    assertThat(lastSealed.sha256()).isEqualTo(sha); // what the announcement carries
    Manifest m = Checkpoints.verify(dir, sha);
    assertThat(m.toJson()).isEqualTo(lastSealed.manifest().toJson());
    assertThat(m.files())
        .extracting(Manifest.FileDigest::path)
        .containsExactly("optimizer.bin", "parameters.bin");
    assertThat(m.files().get(1).sha256()).isEqualTo(Checkpoints.sha256("weights v1".getBytes()));
  }

  @Test
  void aChangedFileOrManifestIsReportedAsCorrupt() throws Exception {
    DirectoryCheckpointStore store = new DirectoryCheckpointStore(root);
    Path dir = store.fetch(write(store, "demo", 1));
    String sha = Checkpoints.sha256(dir.resolve(Manifest.FILE_NAME));
    Files.writeString(dir.resolve("parameters.bin"), "weights v1 tampered");
    assertThatThrownBy(() -> Checkpoints.verify(dir, null))
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining("parameters.bin has SHA-256")
        .hasMessageContaining("the manifest says");
    Files.writeString(dir.resolve("parameters.bin"), "weights v1");
    Files.writeString(dir.resolve(Manifest.FILE_NAME), "{}");
    assertThatThrownBy(() -> Checkpoints.verify(dir, sha))
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining("manifest.json has SHA-256");
    Files.delete(dir.resolve(Manifest.FILE_NAME));
    assertThatThrownBy(() -> Checkpoints.verify(dir, null))
        .isInstanceOf(CorruptCheckpointException.class)
        .hasMessageContaining("has no manifest.json");
  }

  @Test
  void commitIsAllOrNothingAndNeverOverwrites() throws Exception {
    DirectoryCheckpointStore store = new DirectoryCheckpointStore(root);
    write(store, "demo", 1);
    // A writer that died while staging leaves nothing visible.
    Path abandoned = store.newStagingDirectory();
    Files.writeString(abandoned.resolve("parameters.bin"), "half");
    assertThat(store.list("demo", "reward")).extracting(CheckpointId::version).containsExactly(1L);
    assertThatThrownBy(() -> store.commit(abandoned, new CheckpointId("demo", "reward", 2)))
        .hasMessageContaining("has no manifest.json");
    Path again = store.newStagingDirectory();
    Files.writeString(again.resolve("parameters.bin"), "other");
    Checkpoints.seal(again, manifest("demo", 1));
    assertThatThrownBy(() -> store.commit(again, new CheckpointId("demo", "reward", 1)))
        .isInstanceOf(FileAlreadyExistsException.class);
    assertThat(
            Files.readString(
                store.fetch(new CheckpointId("demo", "reward", 1)).resolve("parameters.bin")))
        .isEqualTo("weights v1");
  }

  @Test
  void listsVersionsInOrderPerTenantWithOddNamesKeptApart() throws Exception {
    DirectoryCheckpointStore store = new DirectoryCheckpointStore(root);
    write(store, "demo", 2);
    write(store, "demo", 10);
    write(store, "demo", 1);
    write(store, "../evil tenant", 1);
    assertThat(store.list("demo", "reward"))
        .extracting(CheckpointId::version)
        .containsExactly(1L, 2L, 10L);
    assertThat(store.listAll()).extracting(CheckpointId::tenant).contains("../evil tenant", "demo");
    assertThat(store.fetch(new CheckpointId("../evil tenant", "reward", 1))).startsWith(root);
  }
}
