/** Entry of the public open-data dashboard (オープンデータ ダッシュボード), served at `/dashboard`. */
import { mount } from '../shared/mount.tsx';
import { DashboardPage } from './dashboard-page.tsx';

mount(<DashboardPage />);
