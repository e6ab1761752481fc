// Exits 0 once the broker at args[0] answers a real metadata request (describeCluster + listTopics).
// Run by scripts/kafka with the broker's own jars on the classpath (Java single-file source launch).
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

public class KafkaReady {
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "4000");
        try (Admin admin = Admin.create(p)) {
            admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
            admin.listTopics().names().get(5, TimeUnit.SECONDS);
        }
    }
}
