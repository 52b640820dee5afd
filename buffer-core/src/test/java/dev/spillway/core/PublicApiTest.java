package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.internal.seal.Codec;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The public API never mentions an internal type: every public and protected signature (methods,
 * constructors, fields, record components, supertypes, type bounds) of every public class in the
 * API packages names only API, JDK or third-party types. A type from {@code ...internal...} in one
 * of them would make the internal package a compatibility promise.
 */
class PublicApiTest {
  /** The packages with a compatibility promise (package-info.java of dev.spillway.core lists them). */
  static final List<String> API_PACKAGES = List.of(
      "dev.spillway.core", "dev.spillway.core.keys", "dev.spillway.core.keys.aws",
      "dev.spillway.core.drain", "dev.spillway.core.export");

  @Test
  void apiSignatures_mentionNoInternalType() throws Exception {
    List<Class<?>> api = publicClasses();
    assertThat(api).as("the scan found the API").contains(
        SpillBuffer.class, SpillBufferBuilder.class, Delivery.class, OfferResult.class,
        BufferObserver.class, SpillWriter.class, SpillReader.class, SpillInspection.class,
        Compression.class, QuarantineReason.class, PayloadType.class, RotationPolicy.class,
        dev.spillway.core.keys.DataKeyIssuer.class, dev.spillway.core.keys.DataKeyUnwrapper.class,
        dev.spillway.core.export.SpillingSpanExporter.class,
        dev.spillway.core.export.SpillingMetricExporter.class,
        dev.spillway.core.export.SpillingLogRecordExporter.class);
    Set<String> leaks = new TreeSet<>();
    for (Class<?> c : api) {
      leaks.addAll(internalMentions(c));
    }
    assertThat(leaks).as("public signatures that name an internal type").isEmpty();
  }

  @Test
  void theCheck_findsAnInternalTypeInASignature() {
    assertThat(internalMentions(Leaky.class))
        .containsExactly("dev.spillway.core.PublicApiTest$Leaky.codec() returns/takes "
            + Codec.class.getName());
  }

  /** A fixture that leaks, so that the check above is shown able to fail. */
  public static final class Leaky {
    public Codec codec() {
      return Codec.NONE;
    }

    Codec packagePrivateIsFine() {
      return Codec.NONE;
    }
  }

  static Set<String> internalMentions(Class<?> c) {
    Set<String> out = new TreeSet<>();
    List<Type> supers = new ArrayList<>(List.of(c.getGenericInterfaces()));
    if (c.getGenericSuperclass() != null) {
      supers.add(c.getGenericSuperclass());
    }
    check(c.getName() + " extends/implements", supers.toArray(Type[]::new), out);
    for (TypeVariable<?> v : c.getTypeParameters()) {
      check(c.getName() + "<" + v.getName() + ">", v.getBounds(), out);
    }
    for (Field f : c.getDeclaredFields()) {
      if (visible(f.getModifiers())) {
        check(c.getName() + "." + f.getName(), new Type[] {f.getGenericType()}, out);
      }
    }
    List<Executable> members = new ArrayList<>(List.of(c.getDeclaredConstructors()));
    members.addAll(List.of(c.getDeclaredMethods()));
    for (Executable e : members) {
      if (!visible(e.getModifiers()) || e.isSynthetic()) {
        continue;
      }
      List<Type> types = new ArrayList<>(List.of(e.getGenericParameterTypes()));
      types.addAll(List.of(e.getGenericExceptionTypes()));
      if (e instanceof Method m) {
        types.add(m.getGenericReturnType());
      }
      for (TypeVariable<?> v : e.getTypeParameters()) {
        types.addAll(List.of(v.getBounds()));
      }
      String name = e instanceof Constructor<?> ? "<init>" : e.getName();
      check(c.getName() + "." + name + "() returns/takes", types.toArray(Type[]::new), out);
    }
    for (Class<?> nested : c.getDeclaredClasses()) {
      if (visible(nested.getModifiers())) {
        out.addAll(internalMentions(nested));
      }
    }
    return out;
  }

  private static boolean visible(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  private static void check(String where, Type[] types, Set<String> out) {
    Set<Class<?>> named = new HashSet<>();
    for (Type t : types) {
      collect(t, named, new HashSet<>());
    }
    for (Class<?> n : named) {
      if (n.getName().contains(".internal.")) {
        out.add(where + " " + n.getName());
      }
    }
  }

  private static void collect(Type t, Set<Class<?>> into, Set<Type> seen) {
    if (!seen.add(t)) {
      return;
    }
    if (t instanceof Class<?> c) {
      into.add(c.isArray() ? c.getComponentType() : c);
    } else if (t instanceof ParameterizedType p) {
      collect(p.getRawType(), into, seen);
      for (Type a : p.getActualTypeArguments()) {
        collect(a, into, seen);
      }
    } else if (t instanceof GenericArrayType g) {
      collect(g.getGenericComponentType(), into, seen);
    } else if (t instanceof WildcardType w) {
      for (Type b : w.getUpperBounds()) {
        collect(b, into, seen);
      }
      for (Type b : w.getLowerBounds()) {
        collect(b, into, seen);
      }
    } else if (t instanceof TypeVariable<?> v) {
      for (Type b : v.getBounds()) {
        collect(b, into, seen);
      }
    }
  }

  /** Public top-level classes of the API packages, read from buffer-core's compiled classes. */
  private static List<Class<?>> publicClasses() throws IOException, URISyntaxException, ClassNotFoundException {
    Path classes = Path.of(SpillBuffer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Class<?>> out = new ArrayList<>();
    for (String pkg : API_PACKAGES) {
      Path dir = classes.resolve(pkg.replace('.', '/'));
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          String file = f.getFileName().toString();
          if (!file.endsWith(".class") || file.contains("$") || file.equals("package-info.class")) {
            continue;
          }
          Class<?> c = Class.forName(pkg + "." + file.substring(0, file.length() - ".class".length()),
              false, PublicApiTest.class.getClassLoader());
          if (Modifier.isPublic(c.getModifiers())) {
            out.add(c);
          }
        }
      }
    }
    return out;
  }
}
