package io.prefstream.http;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.Function;
import java.util.function.LongFunction;

/** Request bodies read with a bound, so a huge body costs at most the limit plus one byte. */
public final class Bodies {

  private Bodies() {}

  /**
   * Reads at most {@code limit} bytes of {@code in}.
   *
   * @param contentLength the declared length, or -1: one over the limit is refused unread
   * @param tooLarge the service's 413 for a body of that many bytes (-1: more than the limit)
   * @param unreadable the service's answer to a body that could not be read
   */
  public static byte[] readBounded(
      InputStream in,
      long contentLength,
      long limit,
      LongFunction<RequestError> tooLarge,
      Function<IOException, RequestError> unreadable) {
    if (contentLength > limit) {
      throw tooLarge.apply(contentLength);
    }
    try {
      byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
      if (bytes.length > limit) {
        throw tooLarge.apply(-1);
      }
      return bytes;
    } catch (IOException e) {
      throw unreadable.apply(e);
    }
  }
}
