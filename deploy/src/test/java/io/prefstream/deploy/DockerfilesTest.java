package io.prefstream.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfiles build what the code needs: the Flink image is the Flink the job is built on with
 * its Prometheus reporter of the same release, the GPU image's libtorch is the one DJL's JNI bridge
 * is built for (and that bridge has its CUDA flavour), and every file they copy from the repository
 * exists. (No Docker engine here: the images themselves are not built by the tests.)
 */
class DockerfilesTest {

  static final Path ROOT = Path.of("..");

  static String read(String path) throws IOException {
    return Files.readString(Path.of(path));
  }

  /** The libtorch release of DJL's JNI bridge on the classpath, e.g. 2.7.1. */
  static String pytorchVersion() throws IOException {
    Properties p = new Properties();
    try (InputStream in =
        DockerfilesTest.class.getClassLoader().getResourceAsStream("jnilib/pytorch.properties")) {
      p.load(in);
    }
    return p.getProperty("jni_version").split("-")[0];
  }

  @Test
  void theFlinkImageIsTheFlinkTheJobIsBuiltOnWithItsOwnPrometheusReporter() throws Exception {
    String flink = KubernetesManifestsTest.property("prefstream.flink.version");
    String file = read("flink/Dockerfile");
    assertThat(file).contains("FROM flink:" + flink + "-java17");
    assertThat(file).contains("org.apache.flink:flink-metrics-prometheus:" + flink);
    assertThat(file).contains("/opt/flink/usrlib/prefstream-pair-builder.jar");
    assertThat(read("kubernetes/pair-builder.yaml"))
        .contains("jarURI: local:///opt/flink/usrlib/prefstream-pair-builder.jar");
  }

  @Test
  void theGpuImagesLibtorchIsTheOneDjlsBridgeIsBuiltForWithItsCudaFlavour() throws Exception {
    String torch = pytorchVersion();
    String file = read("docker/Dockerfile.gpu");
    Matcher base =
        Pattern.compile("FROM pytorch/pytorch:([0-9.]+)-cuda([0-9]+)\\.([0-9]+)").matcher(file);
    assertThat(base.find()).isTrue();
    assertThat(base.group(1)).isEqualTo(torch);
    String flavor = "cu" + base.group(2) + base.group(3);
    assertThat(file).contains("PYTORCH_VERSION=" + torch).contains("PYTORCH_FLAVOR=" + flavor);
    assertThat(
            getClass()
                .getClassLoader()
                .getResource("jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so"))
        .as("DJL's JNI jar has a " + flavor + " bridge")
        .isNotNull();
  }

  @Test
  void everyFileTheDockerfilesCopyFromTheRepositoryExistsAndBuildsAreNotSentTargetDirectories()
      throws Exception {
    for (String dockerfile :
        List.of("docker/Dockerfile", "docker/Dockerfile.gpu", "flink/Dockerfile")) {
      for (String line : read(dockerfile).split("\n")) {
        if (line.startsWith("COPY ") && !line.startsWith("COPY --from")) {
          String source = line.split("\\s+")[1];
          if (!source.equals(".")) {
            assertThat(ROOT.resolve(source)).as(dockerfile + ": " + line).exists();
          }
        }
      }
      assertThat(read(dockerfile))
          .as(dockerfile + " runs the launcher or the job jar it builds")
          .containsAnyOf("prefstream-launcher.jar", "prefstream-pair-builder.jar");
    }
    assertThat(Files.readAllLines(ROOT.resolve(".dockerignore"))).contains("**/target/", ".git/");
  }
}
