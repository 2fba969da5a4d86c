package io.prefstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser while the demo runs: headless Debian Chromium, driven by Selenium
 * through the system ChromeDriver (both installed by scripts/install-browser), loads the page the
 * demo prints, waits for every panel to show live figures, and saves a screenshot under
 * target/browser.
 */
@Timeout(300)
class DashboardBrowserIT {

  private static final Duration LIMIT = Duration.ofSeconds(120);
  private static final Pattern NUMBER = Pattern.compile("now ([0-9.]+) ");

  @TempDir Path profile;

  @Test
  void theDashboardShowsLiveFiguresInChromiumWhileTheDemoRuns() throws Exception {
    try (ChildProcess demo =
        ChildProcess.start(
            // Checkpoints every 4 s: a candidate takes its canary arm while the product still
            // sends.
            // Windows of 20 s: the data-quality rates are counted per window of arrival, and a
            // minute's window would close only after the product stopped sending.
            Map.of(
                "PREFSTREAM_TRAINER_CHECKPOINT_INTERVAL", "4s", "PREFSTREAM_MONITOR_WINDOW", "20s"),
            "demo",
            "--kafka-port",
            "0",
            "--ingest-port",
            "0",
            "--scorer-port",
            "0",
            "--monitor-port",
            "0",
            "--events",
            "15000",
            "--rate",
            "250")) {
      String line = demo.awaitLine("prefstream demo: dashboard at ", LIMIT);
      String url = line.substring(line.indexOf("http"));
      WebDriver browser = chromium();
      try {
        browser.get(url);
        WebDriverWait wait = new WebDriverWait(browser, LIMIT, Duration.ofMillis(500));
        // The page redraws every 2 s: an element read just as it is replaced is tried again.
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        wait.until(d -> d.findElement(By.id("status")).getText().equals("live"));
        // Rates: events and pairs per second, from the monitor's counters.
        wait.until(d -> rate(d, "events-now") > 0);
        wait.until(d -> rate(d, "pairs-now") > 0);
        // The trainer's checkpoints with their accuracy, and the scorer's champion.
        wait.until(d -> (Long) js(d, "return Chart.getChart('training').data.labels.length") >= 2);
        wait.until(
            d -> d.findElement(By.id("models")).getText().matches("(?s).*demo/reward\\s+v\\d+.*"));
        // Served scores by arm: the champion and the candidate on shared bins.
        wait.until(
            d ->
                (Long)
                        js(
                            d,
                            "const c = Object.values(Chart.instances).filter(x => x.config.type"
                                + " === 'bar'); return c.length ? c[0].data.datasets.length : 0")
                    >= 2);
        wait.until(d -> championScores(d) >= 100);
        // Drift and quality figures against their thresholds: the score, concept and feedback
        // pipelines close their windows independently, so wait for the feedback ones by name.
        wait.until(d -> driftMetrics(d).size() > 3);
        wait.until(
            d ->
                driftMetrics(d)
                    .containsAll(List.of("dead_letter_rate", "duplicate_rate", "late_rate")));

        String updated = browser.findElement(By.id("updated")).getText();
        wait.until(d -> !d.findElement(By.id("updated")).getText().equals(updated));
        double prequential =
            ((Number)
                    js(
                        browser,
                        "const d = Chart.getChart('training').data.datasets.find(s => s.label"
                            + " === 'prequential').data; return d[d.length - 1]"))
                .doubleValue();
        assertThat(prequential).isBetween(0.0, 1.0);
        List<String> metrics = driftMetrics(browser);
        assertThat(metrics).contains("dead_letter_rate", "duplicate_rate", "late_rate");
        assertThat(browser.findElement(By.id("scores")).getText()).contains("champion v");

        Path dir = Path.of(System.getProperty("prefstream.screenshots", "target/browser"));
        Files.createDirectories(dir);
        byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
        Files.write(dir.resolve("dashboard.png"), png);
        assertThat(png.length).isGreaterThan(20_000);
      } finally {
        browser.quit();
      }
      assertThat(demo.awaitExit(Duration.ofSeconds(150))).as(demo.output()).isZero();
    }
  }

  /**
   * The metric names in the drift table, read in one script: the page replaces the table every 2 s,
   * so elements found one call and read the next can be stale.
   */
  @SuppressWarnings("unchecked")
  private static List<String> driftMetrics(WebDriver d) {
    return (List<String>)
        js(
            d,
            "return [...document.querySelectorAll('#drift tr td:nth-child(2)')]"
                + ".map(e => e.textContent)");
  }

  private WebDriver chromium() {
    String binary = System.getenv().getOrDefault("PREFSTREAM_CHROMIUM", "/usr/bin/chromium");
    String driver =
        System.getenv().getOrDefault("PREFSTREAM_CHROMEDRIVER", "/usr/bin/chromedriver");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(binary);
    options.addArguments(
        "--headless=new",
        "--no-sandbox", // tests run as root in CI containers
        "--disable-gpu",
        "--disable-dev-shm-usage",
        // No network but loopback: keep Chromium from calling home.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--window-size=1400,2000",
        "--user-data-dir=" + profile);
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(driver))
            .usingAnyFreePort()
            .build();
    return new ChromeDriver(service, options);
  }

  private static Object js(WebDriver d, String script) {
    return ((JavascriptExecutor) d).executeScript(script);
  }

  private static final Pattern CHAMPION = Pattern.compile("champion v\\d+: mean \\S+ over (\\d+)");

  private static int championScores(WebDriver d) {
    Matcher m = CHAMPION.matcher(d.findElement(By.id("scores")).getText());
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }

  private static double rate(WebDriver d, String id) {
    Matcher m = NUMBER.matcher(d.findElement(By.id(id)).getText());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }
}
