// Snowplow's iglu-scala-client as a command: resolver configuration in argv(0), one
// self-describing JSON instance per line on stdin; per line, "OK" or "ERROR <ClientError JSON>".
// The client is Snowplow's own, so what it makes of iglu-server is what Snowplow's enrich would.
import scala.io.Source

import cats.Id
import cats.effect.Clock
import cats.implicits._
import io.circe.parser.parse
import io.circe.syntax._

import com.snowplowanalytics.iglu.client.Client
import com.snowplowanalytics.iglu.core.SelfDescribingData
import com.snowplowanalytics.iglu.core.circe.implicits._

import java.util.concurrent.TimeUnit

object Harness {
  implicit val idClock: Clock[Id] = new Clock[Id] {
    final def realTime(unit: TimeUnit): Id[Long] = unit.convert(System.currentTimeMillis(), TimeUnit.MILLISECONDS)
    final def monotonic(unit: TimeUnit): Id[Long] = unit.convert(System.nanoTime(), TimeUnit.NANOSECONDS)
  }

  def main(args: Array[String]): Unit = {
    val config = parse(Source.fromFile(args(0)).mkString).fold(e => sys.error(e.toString), identity)
    val client = Client.parseDefault[Id](config).value.fold(e => sys.error(e.toString), identity)
    for (line <- Source.stdin.getLines() if line.trim.nonEmpty) {
      val out = parse(line).leftMap(_.toString).flatMap { json =>
        SelfDescribingData.parse(json).leftMap(_.code)
      } match {
        case Left(e) => "ERROR " + io.circe.Json.obj("parse" -> e.asJson).noSpaces
        case Right(sdd) =>
          client.check(sdd).value match {
            case Right(_)  => "OK"
            case Left(err) => "ERROR " + err.asJson.noSpaces
          }
      }
      println(out)
      Console.flush()
    }
  }
}
