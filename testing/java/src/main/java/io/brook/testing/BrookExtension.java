package io.brook.testing;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension giving tests a throwaway Brook broker ({@link BrookBroker}).
 *
 * <pre>{@code
 * @ExtendWith(BrookExtension.class)
 * class OrdersTest {
 *   @Test void produces(BrookBroker brook) { ... brook.bootstrapServers() ... }
 * }
 * }</pre>
 *
 * <p>With {@code @ExtendWith} or a static {@code @RegisterExtension} field, one broker serves the
 * whole test class and is reset before each test (no topics, groups, offsets, fault rules or request
 * log left by earlier tests); it stops after the class. {@link #freshPerTest()}, or a non-static
 * {@code @RegisterExtension} field, gives each test a broker of its own instead. A test method or
 * constructor parameter of type {@link BrookBroker} receives the broker; so does {@link #broker()}.
 * The system property {@code brook.freshPerTest=true} makes every test get its own broker.
 */
public final class BrookExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(BrookExtension.class);
  private static final String CLASS_BROKER = "class-broker";
  private static final String TEST_BROKER = "test-broker";

  private final Map<String, String> overrides = new LinkedHashMap<>();
  private boolean freshPerTest = Boolean.getBoolean("brook.freshPerTest");
  private BrookBroker current;

  /** For {@code @ExtendWith(BrookExtension.class)}: the defaults. */
  public BrookExtension() {}

  /** For {@code @RegisterExtension static BrookExtension brook = BrookExtension.create()...}. */
  public static BrookExtension create() {
    return new BrookExtension();
  }

  /** One broker config for the broker (as {@code --override key=value}). */
  public BrookExtension withOverride(String key, String value) {
    overrides.put(key, value);
    return this;
  }

  /** A new broker for each test instead of one reset between tests. */
  public BrookExtension freshPerTest() {
    freshPerTest = true;
    return this;
  }

  /** The broker of the running test. */
  public BrookBroker broker() {
    if (current == null) throw new IllegalStateException("no Brook broker: no test of this extension is running");
    return current;
  }

  /** Shorthand for {@code broker().bootstrapServers()}. */
  public String bootstrapServers() {
    return broker().bootstrapServers();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    if (freshPerTest) return;
    // Closed by JUnit when the class's context closes (the store closes AutoCloseable values).
    context.getStore(NAMESPACE).getOrComputeIfAbsent(CLASS_BROKER, k -> BrookBroker.start(overrides), BrookBroker.class);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    BrookBroker shared = freshPerTest ? null : context.getStore(NAMESPACE).get(CLASS_BROKER, BrookBroker.class);
    if (shared != null) {
      shared.reset();
      current = shared;
    } else {
      // freshPerTest, or an instance field registration (beforeAll was not called for it).
      current = BrookBroker.start(overrides);
      context.getStore(NAMESPACE).put(TEST_BROKER, current);
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    BrookBroker own = context.getStore(NAMESPACE).remove(TEST_BROKER, BrookBroker.class);
    current = null;
    if (own != null) own.close();
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == BrookBroker.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    if (current != null) return current;
    // A constructor parameter (before beforeEach): the class's broker.
    BrookBroker shared = context.getStore(NAMESPACE).get(CLASS_BROKER, BrookBroker.class);
    if (shared == null) throw new IllegalStateException("no Brook broker yet: use a test method parameter");
    return shared;
  }
}
