"""The rclpy localizer node: messages and parameters <-> vgssl_ros.core."""
