package io.prefstream.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BodiesTest {

  private static RequestError tooLarge(long size) {
    return new RequestError(413, "too_large", "$", "size " + size);
  }

  private static RequestError unreadable(IOException e) {
    return new RequestError(400, "unreadable", "$", e.getMessage());
  }

  @Test
  void aBodyUpToTheLimitIsReadWhole() {
    byte[] body =
        Bodies.readBounded(stream(10), -1, 10, BodiesTest::tooLarge, BodiesTest::unreadable);

    assertThat(body).hasSize(10);
  }

  @Test
  void aDeclaredLengthOverTheLimitIsRefusedUnread() {
    AtomicInteger read = new AtomicInteger();
    InputStream counting =
        new InputStream() {
          @Override
          public int read() {
            read.incrementAndGet();
            return 0;
          }
        };

    assertThatThrownBy(
            () ->
                Bodies.readBounded(counting, 11, 10, BodiesTest::tooLarge, BodiesTest::unreadable))
        .hasMessage("size 11");
    assertThat(read).hasValue(0);
  }

  @Test
  void anUndeclaredBodyOverTheLimitIsRefusedAfterOneByteMore() {
    assertThatThrownBy(
            () ->
                Bodies.readBounded(
                    stream(1000), -1, 10, BodiesTest::tooLarge, BodiesTest::unreadable))
        .isInstanceOfSatisfying(RequestError.class, e -> assertThat(e.status()).isEqualTo(413))
        .hasMessage("size -1");
  }

  @Test
  void aBrokenStreamIsTheServicesOwnAnswer() {
    InputStream broken =
        new InputStream() {
          @Override
          public int read() throws IOException {
            throw new IOException("connection reset");
          }
        };

    assertThatThrownBy(
            () -> Bodies.readBounded(broken, -1, 10, BodiesTest::tooLarge, BodiesTest::unreadable))
        .isInstanceOfSatisfying(RequestError.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessage("connection reset");
  }

  private static InputStream stream(int bytes) {
    return new ByteArrayInputStream(new byte[bytes]);
  }
}
